/**
 * The RTMP wing's listeners: one TCP server per `listen` endpoint, each
 * connection admitted by the connection limit and run as an RtmpSession.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import { listen } from '../../core/listen.js';
import { RtmpSession } from './rtmp-session.js';

export class RtmpServer {
  private readonly servers: net.Server[] = [];

  constructor(private readonly ctx: ServerContext) {}

  async install(): Promise<FeatureHandle> {
    for (const ep of this.ctx.config.listen) {
      // Nagle stays on until publish/play starts (rtmp-session.ts sets TCP_NODELAY for command replies).
      const server = net.createServer({ noDelay: false }, (socket) => {
        const authenticated = this.ctx.limit.admitPreAuth(socket, 'rtmp');
        if (authenticated) new RtmpSession(socket, this.ctx, authenticated);
      });
      await listen(server, ep);
      this.servers.push(server);
    }
    return { stop: () => this.closed() };
  }

  ports(): number[] {
    return this.servers.map((s) => (s.address() as AddressInfo | null)?.port ?? 0);
  }

  /** No new connections; the sessions already there go on. */
  stopListening(): void {
    for (const s of this.servers) s.close();
  }

  private async closed(): Promise<void> {
    this.stopListening();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => (s.listening ? s.once('close', () => r()) : r()))));
  }
}
