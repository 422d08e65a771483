/**
 * `max_connections`: one count over every TCP connection the server accepts
 * (RTMP, HTTP, API), as SRS counts them. Over the limit, a new connection is
 * closed at once with a log line.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';

export class ConnectionLimit {
  private count = 0;

  constructor(
    public max: number,
    private readonly log: Logger,
  ) {}

  get current(): number {
    return this.count;
  }

  /** Returns false (and destroys the socket) when the server is full. */
  admit(socket: Socket, listener: string): boolean {
    if (this.count >= this.max) {
      this.log.warn({ ip: socket.remoteAddress, listener, max: this.max }, 'connection refused: max_connections reached');
      socket.destroy();
      return false;
    }
    this.count++;
    socket.once('close', () => this.count--);
    return true;
  }
}
