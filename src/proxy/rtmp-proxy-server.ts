/**
 * The RTMP listener of `sluice proxy`: each client is sniffed until it names
 * its stream (rtmp-route-sniffer.ts), routed, and then joined to the origin
 * (rtmp-origin-leg.ts). A client that sends garbage, too much, or nothing
 * useful within the time limit is cut with one log line; an unroutable one
 * (no live origin, store down) too. A live session needs no store: it goes
 * on whatever happens to Redis. The RTMPS listener (listenTls) terminates
 * TLS and hands the decrypted socket to the same sniffer and leg: the leg
 * to the origin is plain RTMP, as an SRS proxy's RTMP one.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log/logger.js';
import { listen } from '../core/listen.js';
import type { CertFiles, TlsCertificates } from '../core/tls-certificates.js';
import { RtmpRouteSniffer, type RtmpRoute } from './rtmp-route-sniffer.js';
import { RtmpOriginLeg } from './rtmp-origin-leg.js';
import type { OriginRouter } from './origin-router.js';
import { originEndpoint } from './origin-endpoint.js';

export interface RtmpProxyOptions {
  router: OriginRouter;
  logger: Logger;
  /** A client must have said play/publish within this (ms). */
  sniffTimeoutMs: number;
  /** A publisher's stream pin is refreshed this often (ms). */
  pinRefreshMs: number;
}

/**
 * Several buffers in one system call (writev) and without copying them into
 * one: a read from the origin carries dozens of messages, a connect answer four.
 * False when the socket asks to wait for 'drain'.
 */
function writeAll(sock: net.Socket, bufs: readonly Buffer[]): boolean {
  if (bufs.length === 0) return true;
  if (bufs.length === 1) return sock.write(bufs[0]!);
  sock.cork();
  let ok = true;
  for (const b of bufs) ok = sock.write(b);
  sock.uncork();
  return ok;
}

function errText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 200);
}

export class RtmpProxyServer {
  private readonly server: net.Server;
  private tlsServer: tls.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** Sessions joined to an origin, by action. */
  readonly live = { play: 0, publish: 0 };

  constructor(private readonly opts: RtmpProxyOptions) {
    this.server = net.createServer((s) => this.accept(s));
  }

  /** The port it listens on (the system's pick for port 0). The server's backlog, for players arriving by the thousand. */
  async listen(port: number, host: string): Promise<number> {
    await listen(this.server, { host, port });
    return (this.server.address() as net.AddressInfo).port;
  }

  /** RTMPS: TLS with the certificate store's options (file watching, handshake timeout, bounded failure logs). */
  async listenTls(port: number, host: string, certs: TlsCertificates, files: CertFiles): Promise<number> {
    const server = tls.createServer(certs.serverOptions(files, 'rtmps'));
    server.on('secureConnection', (s: tls.TLSSocket) => this.accept(s));
    certs.attach(server, files, 'rtmps');
    await listen(server, { host, port });
    this.tlsServer = server;
    return (server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const closing = (srv: net.Server): Promise<void> => new Promise((r) => (srv.listening ? srv.close(() => r()) : r()));
    return Promise.all([closing(this.server), this.tlsServer ? closing(this.tlsServer) : null]).then(() => undefined);
  }

  private accept(client: net.Socket): void {
    this.sockets.add(client);
    client.setNoDelay(true);
    const remote = `${client.remoteAddress}:${client.remotePort}`;
    const log = this.opts.logger.child({ remote });
    const sniffer = new RtmpRouteSniffer();
    const timer = setTimeout(() => {
      log.warn({ ms: this.opts.sniffTimeoutMs }, 'rtmp proxy: no play or publish in time, connection cut');
      client.destroy();
    }, this.opts.sniffTimeoutMs);
    client.on('close', () => {
      clearTimeout(timer);
      this.sockets.delete(client);
    });
    client.on('error', () => client.destroy());
    const onData = (d: Buffer): void => {
      let step;
      try {
        step = sniffer.feed(d);
      } catch (err) {
        log.warn({ err: errText(err) }, 'rtmp proxy: bad client preamble, connection cut');
        client.destroy();
        return;
      }
      writeAll(client, step.send);
      if (!step.route) return;
      client.off('data', onData);
      client.pause();
      clearTimeout(timer);
      this.join(client, step.route, log).catch((err: unknown) => {
        log.warn({ err: errText(err), stream: step.route?.streamKey }, 'rtmp proxy: no route, connection cut');
        client.destroy();
      });
    };
    client.on('data', onData);
  }

  private async join(client: net.Socket, route: RtmpRoute, log: Logger): Promise<void> {
    const origin = await this.opts.router.route(route.streamKey);
    const ep = originEndpoint(origin, 'rtmp');
    if (!ep) throw new Error(`origin ${origin.id} lists no RTMP port`);
    if (client.destroyed) return;
    const slog = log.child({ stream: route.streamKey, action: route.action, origin: origin.id });
    const up = net.connect({ host: ep.host, port: ep.port });
    up.setNoDelay(true);
    const leg = new RtmpOriginLeg(route);
    up.write(leg.start());
    let piping = false;
    // An origin that accepts but never finishes its handshake must not hold the client for ever.
    const stall = setTimeout(() => end('origin did not answer the handshake in time'), this.opts.sniffTimeoutMs);
    let refresh: NodeJS.Timeout | null = null;
    const end = (why: string): void => {
      clearTimeout(stall);
      if (refresh) clearInterval(refresh);
      refresh = null;
      if (!client.destroyed || !up.destroyed) slog.info({ why }, 'rtmp proxy: session ended');
      client.destroy();
      up.destroy();
    };
    up.on('error', (err) => end(`origin: ${errText(err)}`));
    up.on('close', () => end('origin closed'));
    client.on('close', () => end('client closed'));
    up.on('data', (d: Buffer) => {
      let step;
      try {
        step = leg.feed(d);
      } catch (err) {
        end(`bad origin stream: ${errText(err)}`);
        return;
      }
      writeAll(up, step.toOrigin);
      if (step.toClient.length > 0) {
        // Back-pressure: a slow player slows its origin leg, not the proxy's memory.
        if (!writeAll(client, step.toClient)) {
          up.pause();
          client.once('drain', () => up.resume());
        }
      }
      if (leg.ready && !piping) {
        piping = true;
        clearTimeout(stall);
        this.live[route.action]++;
        client.once('close', () => this.live[route.action]--);
        slog.info('rtmp proxy: session joined to origin');
        client.on('data', (c: Buffer) => {
          if (!up.write(c)) {
            client.pause();
            up.once('drain', () => client.resume());
          }
        });
        client.resume();
        if (route.action === 'publish') {
          refresh = setInterval(() => {
            this.opts.router.keep(route.streamKey, origin.id).catch((err: unknown) => slog.debug({ err: errText(err) }, 'rtmp proxy: pin refresh failed'));
          }, this.opts.pinRefreshMs);
          refresh.unref();
        }
      }
    });
  }
}
