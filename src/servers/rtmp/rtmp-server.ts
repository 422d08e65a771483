/**
 * The RTMP wing's listeners: one TCP server per `listen` endpoint, and the
 * RTMPS one (`rtmps`, TLS), each connection admitted by the connection limit
 * and run as an RtmpSession.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import { listen } from '../../core/listen.js';
import { RtmpSession } from './rtmp-session.js';

export class RtmpServer {
  private readonly servers: net.Server[] = [];
  private rtmps: tls.Server | null = null;

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
    if (this.ctx.config.rtmps.enabled) await this.installRtmps();
    return { stop: () => this.closed() };
  }

  ports(): number[] {
    return this.servers.filter((s) => s !== this.rtmps).map((s) => (s.address() as AddressInfo | null)?.port ?? 0);
  }

  /** The RTMPS port, or null when `rtmps` is off. */
  rtmpsPort(): number | null {
    return (this.rtmps?.address() as AddressInfo | null)?.port ?? null;
  }

  /** No new connections; the sessions already there go on. */
  stopListening(): void {
    for (const s of this.servers) s.close();
  }

  private async installRtmps(): Promise<void> {
    const cfg = this.ctx.config.rtmps;
    const files = { key: cfg.key, cert: cfg.cert };
    // The limit counts the TCP connection from its first byte (a stalled handshake holds a slot
    // of the unauthenticated budget until the handshake timeout); the session starts once TLS is up.
    const pending = new Map<string, () => void>();
    const server = tls.createServer({ ...this.ctx.tls.serverOptions(files, 'rtmps'), noDelay: false });
    server.on('connection', (socket: net.Socket) => {
      const authenticated = this.ctx.limit.admitPreAuth(socket, 'rtmps');
      if (!authenticated) return;
      const key = `${socket.remoteAddress}|${socket.remotePort}`;
      pending.set(key, authenticated);
      socket.once('close', () => pending.delete(key));
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const key = `${socket.remoteAddress}|${socket.remotePort}`;
      const authenticated = pending.get(key);
      pending.delete(key);
      if (authenticated) new RtmpSession(socket, this.ctx, authenticated);
      else socket.destroy();
    });
    this.ctx.tls.attach(server, files, 'rtmps');
    await listen(server, cfg.listen);
    this.servers.push(server);
    this.rtmps = server;
    this.ctx.log.info({ port: cfg.listen.port }, 'RTMPS listening');
  }

  private async closed(): Promise<void> {
    this.stopListening();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => (s.listening ? s.once('close', () => r()) : r()))));
  }
}
