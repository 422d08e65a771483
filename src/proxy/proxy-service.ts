/**
 * `sluice proxy` put together: the store (memory or Redis), the router, and
 * the three listeners. Started and stopped by the CLI (src/main/proxy-cli.ts).
 */
import type { Logger } from '../log/logger.js';
import type { ProxyConfig } from './proxy-config.js';
import type { OriginStore } from './origin-store.js';
import { MemoryOriginStore } from './memory-origin-store.js';
import { RedisOriginStore } from './redis-origin-store.js';
import { OriginRouter } from './origin-router.js';
import { RtmpProxyServer } from './rtmp-proxy-server.js';
import { HttpProxyServer } from './http-proxy-server.js';
import { SystemApiServer } from './system-api-server.js';
import { RtcUdpRelay } from './rtc-udp-relay.js';
import { RtcSignalRelay } from './rtc-signal-relay.js';
import { SrtUdpRelay } from './srt-udp-relay.js';
import { TlsCertificates } from '../core/tls-certificates.js';
import type { TlsConfig } from '../config/server-config.js';

/** The server's `tls` defaults, for the proxy's one TLS listener: 10 s handshakes, files watched, no SNI, no ACME. */
const PROXY_TLS: TlsConfig = {
  handshakeTimeout: 10_000,
  watch: true,
  sni: [],
  acme: { enabled: false, directory: '', email: '', domains: [], renewBefore: 30, caFile: '', dir: '' },
};

export interface ProxyPorts {
  rtmp: number | null;
  http: number | null;
  system: number;
  webrtc: number | null;
  srt: number | null;
  rtmps: number | null;
}

export class ProxyService {
  private readonly store: OriginStore;
  private readonly rtmp: RtmpProxyServer | null;
  private readonly http: HttpProxyServer | null;
  private readonly api: SystemApiServer;
  private readonly rtcRelay: RtcUdpRelay | null;
  private readonly srt: SrtUdpRelay | null;
  private readonly certs: TlsCertificates | null;
  private rtcPort = 0;

  constructor(
    private readonly config: ProxyConfig,
    private readonly logger: Logger,
  ) {
    this.store = config.loadBalancer === 'redis' ? this.redisStore() : new MemoryOriginStore();
    const router = new OriginRouter(this.store);
    this.certs = config.rtmpsServer ? new TlsCertificates(PROXY_TLS, logger) : null;
    this.rtmp = config.rtmpServer || config.rtmpsServer
      ? new RtmpProxyServer({ router, logger, sniffTimeoutMs: config.connectTimeoutMs, pinRefreshMs: config.pinRefreshMs })
      : null;
    this.rtcRelay = config.webrtcServer ? new RtcUdpRelay(logger) : null;
    const signal = this.rtcRelay
      ? new RtcSignalRelay({ router, relay: this.rtcRelay, logger, candidate: { ip: config.webrtcCandidate, port: () => this.rtcPort } })
      : null;
    this.srt = config.srtServer ? new SrtUdpRelay({ router, logger, connectTimeoutMs: config.connectTimeoutMs, pinRefreshMs: config.pinRefreshMs }) : null;
    this.http = config.httpServer ? new HttpProxyServer(router, logger, signal) : null;
    this.api = new SystemApiServer({
      store: this.store,
      logger,
      originTtlMs: config.originTtlMs,
      sessions: () => ({ rtmp_play: this.rtmp?.live.play ?? 0, rtmp_publish: this.rtmp?.live.publish ?? 0, http: this.http?.live ?? 0, rtc: this.rtcRelay?.sessions ?? 0,
        srt_play: this.srt?.live.play ?? 0,
        srt_publish: this.srt?.live.publish ?? 0,
      }),
    });
  }

  private redisStore(): OriginStore {
    const { host, port, password, db } = this.config.redis;
    // One line per state change, not per retry: a Redis that stays down must not flood the log.
    let last = '';
    return new RedisOriginStore({
      host,
      port,
      password,
      db,
      onEvent: (event, detail) => {
        if (event === last) return;
        last = event;
        if (event === 'ready') this.logger.info({ redis: detail }, 'proxy: Redis connected');
        else this.logger.warn({ redis: detail }, `proxy: Redis ${event === 'close' ? 'connection lost, reconnecting' : `error: ${detail}`}`);
      },
    });
  }

  async start(): Promise<ProxyPorts> {
    const c = this.config;
    const system = await this.api.listen(c.systemApi.port, c.systemApi.host);
    const rtmp = this.rtmp && c.rtmpServer ? await this.rtmp.listen(c.rtmpServer.port, c.rtmpServer.host) : null;
    const http = this.http && c.httpServer ? await this.http.listen(c.httpServer.port, c.httpServer.host) : null;
    const webrtc = this.rtcRelay && c.webrtcServer ? await this.rtcRelay.listen(c.webrtcServer.port, c.webrtcServer.host) : null;
    this.rtcPort = webrtc ?? 0;
    const srt = this.srt && c.srtServer ? await this.srt.listen(c.srtServer.port, c.srtServer.host) : null;
    const rtmps = this.rtmp && this.certs && c.rtmpsServer ? await this.rtmp.listenTls(c.rtmpsServer.port, c.rtmpsServer.host, this.certs, c.rtmpsFiles) : null;
    return { rtmp, http, system, webrtc, srt, rtmps };
  }

  /** SIGHUP: the RTMPS key and certificate read again (a changed pair is also picked up by polling). */
  reloadCertificates(): void {
    this.certs?.reload(PROXY_TLS);
  }

  async stop(): Promise<void> {
    await Promise.all([this.rtmp?.close(), this.http?.close(), this.api.close(), this.rtcRelay?.close(), this.srt?.close()]);
    this.certs?.close();
    await this.store.close();
  }
}
