/**
 * SRS's `stream_caster { caster mpegts_over_udp; listen PORT; output URL; }`:
 * MPEG-TS in UDP datagrams (e.g. `ffmpeg -f mpegts udp://host:PORT`) is
 * published to the stream `output` names, through the same TS demux path as
 * SRT. UDP has no connection: the first datagram starts the publish (after
 * the admission door: hooks, security), silence for IDLE_MS ends it. The
 * output is published into this server's hub (SRS republishes over RTMP;
 * only the output's vhost/app/stream count here).
 */
import dgram from 'node:dgram';
import { bindOwnedUdp } from '../../core/udp-bind.js';
import type { ClientType } from '../../core/client-registry.js';
import type { StreamCasterConfig } from '../../config/server-config.js';
import { sourcePlayConfig, type ServerContext } from '../../core/server-context.js';
import { TsDemuxer } from '../../format/mpegts-demuxer.js';
import { FrameInterleaver, TsFrameReader } from '../../format/mpegts-frames.js';
import type { Logger } from '../../log/logger.js';
import { parseUrlRequest } from '../../protocol/stream-url.js';
import { CasterPublish } from './caster-publish.js';

const IDLE_MS = 5000;

class UdpPublish extends CasterPublish {
  readonly type: ClientType = 'udp-publish';
  lastAt = Date.now();
  admitted = false;
  readonly demux = new TsDemuxer({ maxPesBytes: 4 * 1024 * 1024 });
  readonly reader = new TsFrameReader();
  readonly interleaver = new FrameInterleaver();
}

export class MpegtsUdpCaster {
  private socket: dgram.Socket | null = null;
  private session: UdpPublish | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    private readonly ctx: ServerContext,
    private readonly cfg: StreamCasterConfig,
  ) {
    this.log = ctx.log.child({ caster: 'mpegts_over_udp', port: cfg.listen });
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    // One worker casts the port: a stream's datagrams must not be dealt out to several workers.
    if ((await bindOwnedUdp(socket, this.cfg.listen, '0.0.0.0')) === 'held-by-another-worker') {
      this.log.info('stream caster port held by another worker');
      return;
    }
    socket.on('error', (err) => this.log.warn({ err: err.message }, 'caster socket error'));
    socket.on('message', (m, r) => this.onDatagram(m, r.address));
    this.socket = socket;
    this.timer = setInterval(() => {
      if (this.session && Date.now() - this.session.lastAt > IDLE_MS) this.session.close(`no datagram for ${IDLE_MS} ms`);
    }, 1000);
    this.timer.unref();
    this.log.info({ output: this.cfg.output }, 'stream caster listening');
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.session?.close('server stopping');
    this.socket?.close();
    this.socket = null;
  }

  private onDatagram(m: Buffer, ip: string): void {
    let s = this.session;
    if (!s) s = this.open(ip);
    if (!s) return;
    s.lastAt = Date.now();
    s.received += m.length;
    if (!s.admitted || !s.source) return;
    try {
      for (const pes of s.demux.push(m)) for (const f of s.reader.read(pes)) for (const g of s.interleaver.push(f)) s.source.onFrame(g);
    } catch (err) {
      s.close(`bad MPEG-TS: ${(err as Error).message}`);
    }
  }

  private open(ip: string): UdpPublish | null {
    const req = parseUrlRequest(this.cfg.output);
    const vh = this.ctx.vhost(req.vhost);
    if (!vh || !req.stream) {
      this.log.warn({ output: this.cfg.output }, 'stream caster: output names no stream of a known vhost');
      return null;
    }
    const s = new UdpPublish(ip, vh.name, req.app, req.stream, req.param, req.tcUrl);
    this.session = s;
    s.onClose = (reason) => {
      if (this.session === s) this.session = null;
      this.ctx.clients.remove(s);
      if (s.source) {
        s.source.unpublish(s);
        this.ctx.admission.notify('onUnpublish', s);
      }
      this.log.info({ cid: s.id, reason, recv: s.received }, 'caster publish stopped');
    };
    void this.ctx.admission.gate(
      'onPublish',
      s,
      () => {
        if (s.closed) return;
        const source = this.ctx.sources.getOrCreate(vh.name, req.app, req.stream, sourcePlayConfig(vh));
        if (!source.publish(s)) {
          s.close('stream is busy');
          return;
        }
        s.source = source;
        s.admitted = true;
        this.ctx.clients.add(s);
        this.log.info({ cid: s.id, ip, stream: `${req.app}/${req.stream}` }, 'caster publish started');
      },
      () => s.close('denied'),
    );
    return s;
  }
}
