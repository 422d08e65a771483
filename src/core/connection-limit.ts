/**
 * `max_connections`: one count over every TCP connection the server accepts
 * (RTMP, HTTP, API), as SRS counts them, and every WebRTC session from its
 * offer until it closes (SRS counts RTC sessions in its connection manager
 * too; before issue 11 an offer flood was bounded by nothing). Over the
 * limit, a new connection is closed at once with a log line.
 *
 * Inside it, connections that have yet to authenticate (RTMP before its
 * publish or play is admitted) have a smaller budget of their own, so that
 * peers that never get that far (a slow-loris) cannot take the room of
 * established players, publishers and the API (issue 11).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';

/** Share of max_connections that unauthenticated connections may hold at once. */
const PRE_AUTH_SHARE = 0.5;

export class ConnectionLimit {
  private count = 0;
  private preAuth = 0;

  constructor(
    public max: number,
    private readonly log: Logger,
  ) {}

  get current(): number {
    return this.count;
  }

  /** How many connections may be unauthenticated at once (at least one). */
  get maxPreAuth(): number {
    return Math.max(1, Math.floor(this.max * PRE_AUTH_SHARE));
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

  /**
   * A slot for something that is not a socket (a WebRTC session): the
   * returned release gives it back (calling it again is harmless). Null when
   * the server is full.
   */
  acquire(listener: string, ip: string): (() => void) | null {
    if (this.count >= this.max) {
      this.log.warn({ ip, listener, max: this.max }, 'session refused: max_connections reached');
      return null;
    }
    this.count++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.count--;
    };
  }

  /**
   * admit() for a connection that must still authenticate: it also counts in
   * the pre-auth budget until the returned `authenticated` is called (or it
   * closes). Null (the socket destroyed) when either budget is full.
   */
  admitPreAuth(socket: Socket, listener: string): (() => void) | null {
    if (this.preAuth >= this.maxPreAuth) {
      this.log.warn({ ip: socket.remoteAddress, listener, max: this.maxPreAuth }, 'connection refused: unauthenticated connections at their limit');
      socket.destroy();
      return null;
    }
    if (!this.admit(socket, listener)) return null;
    this.preAuth++;
    let counted = true;
    const authenticated = (): void => {
      if (!counted) return;
      counted = false;
      this.preAuth--;
    };
    socket.once('close', authenticated);
    return authenticated;
  }
}
