/**
 * The statistics behind the HTTP API, the exporter and the console: vhosts,
 * streams and clients with SRS's ids, byte counters and bitrates over a 30 s
 * window, codecs and resolution from the source's sequence headers.
 *
 * Byte counters come from the sessions themselves (ClientSession.bytesIn/Out):
 * every `refresh()` adds what each session moved since the last one to its
 * stream, its vhost and the server totals. A timer samples the counters into
 * rate windows every few seconds. Nothing here is on the media hot path.
 */
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession } from '../../core/client-registry.js';
import type { SessionPolicy } from '../../core/session-policy.js';
import type { LiveSource } from '../../live/live-source.js';
import type { Consumer } from '../../live/consumer.js';
import type { MediaFrame, AudioCodec, VideoCodec } from '../../codec/media-frame.js';
import type { AudioInfo, VideoInfo } from '../../codec/codec-info.js';
import { describeAudio, describeVideoConfig } from '../../codec/describe-codec.js';
import { randomId } from '../../log/logger.js';
import { streamUrl } from '../../protocol/stream-url.js';
import { RateWindow } from './rate-window.js';
import { ProcSampler } from './proc-stats.js';

const STATS_SAMPLE_MS = 2000;
const STATS_WINDOW_MS = 30_000;

export interface Counters {
  sendBytes: number;
  recvBytes: number;
  readonly send: RateWindow;
  readonly recv: RateWindow;
}

function counters(windowMs: number): Counters {
  return { sendBytes: 0, recvBytes: 0, send: new RateWindow(windowMs), recv: new RateWindow(windowMs) };
}

export interface VhostStat extends Counters {
  readonly id: string;
  readonly name: string;
}

export interface StreamStat extends Counters {
  readonly id: string;
  readonly key: string;
  readonly vhost: string;
  readonly app: string;
  readonly stream: string;
  tcUrl: string;
  readonly createdAt: number;
}

export interface ClientStat {
  readonly id: string;
  session: ClientSession;
  lastIn: number;
  lastOut: number;
  readonly send: RateWindow;
  readonly recv: RateWindow;
  /** Stream key this client's bytes were counted under. */
  streamKey: string;
}

/** Maps a client type to the protocol it speaks (exporter label, console). */
export function protocolOf(type: string): string {
  if (type === 'rtmp-play' || type === 'fmle-publish' || type === 'flash-publish') return 'rtmp';
  if (type === 'flv-play') return 'http-flv';
  if (type.startsWith('hls')) return 'hls';
  if (type.startsWith('rtc')) return 'webrtc';
  if (type.startsWith('srt') || type === 'haivision-publish') return 'srt';
  if (type.endsWith('-play') || type.endsWith('-publish')) return type.replace(/-(play|publish)$/, '');
  return 'other';
}

export function isPublishType(type: string): boolean {
  return type.endsWith('-publish');
}

export class ServerStats {
  readonly vhosts = new Map<string, VhostStat>();
  readonly streams = new Map<string, StreamStat>();
  readonly clients = new Map<string, ClientStat>();
  readonly proc: ProcSampler;
  readonly totals: Counters;
  /** Clients ever seen, and clients refused by a policy or kicked (srs_clients_total / _errs_total). */
  clientsTotal = 0;
  clientsErrors = 0;
  /** Frames dropped for slow players, over the process life. */
  framesDropped = 0;
  private readonly droppedSeen = new WeakMap<Consumer, number>();
  private readonly videoInfo = new WeakMap<MediaFrame, VideoInfo | null>();
  private readonly audioInfo = new WeakMap<MediaFrame, AudioInfo | null>();
  /** Audio without a sequence header (MP3): described from its first frame. */
  private readonly headerlessAudio = new WeakMap<LiveSource, AudioInfo>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly ctx: ServerContext,
    readonly windowMs = STATS_WINDOW_MS,
  ) {
    this.totals = counters(windowMs);
    this.proc = new ProcSampler(undefined, () => ctx.config.stats.disk);
  }

  /** Starts sampling and follows new sources (for codecs without a header frame). */
  start(sampleMs = STATS_SAMPLE_MS): void {
    if (this.timer) return;
    this.ctx.onSourceCreated((s) => this.observe(s));
    this.ctx.admission.onDenied(() => this.countError());
    for (const s of this.ctx.sources.all()) this.observe(s);
    this.tick();
    this.timer = setInterval(() => this.tick(), sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A SessionPolicy that counts clients as soon as they appear, and refusals. */
  readonly policy: SessionPolicy = {
    name: 'stats',
    onConnect: (s) => void this.seen(s),
    onPublish: (s) => void this.seen(s),
    onPlay: (s) => void this.seen(s),
  };

  /** A session was refused (by a policy) or kicked: counts as an ended-with-error client. */
  countError(): void {
    this.clientsErrors++;
  }

  private observe(source: LiveSource): void {
    source.observers.add({
      onFrame: (src, frame) => {
        if (frame.kind === 'audio' && frame.codec === 'MP3' && !this.headerlessAudio.has(src)) {
          try {
            this.headerlessAudio.set(src, describeAudio('MP3', frame.payload));
          } catch {
            this.headerlessAudio.set(src, { codec: 'MP3', profile: 'Other', sampleRate: 0, channels: 0 });
          }
        }
      },
    });
  }

  private tick(): void {
    this.proc.sample();
    this.refresh();
    const now = Date.now();
    this.totals.send.sample(now, this.totals.sendBytes);
    this.totals.recv.sample(now, this.totals.recvBytes);
    for (const v of this.vhosts.values()) {
      v.send.sample(now, v.sendBytes);
      v.recv.sample(now, v.recvBytes);
    }
    for (const s of this.streams.values()) {
      s.send.sample(now, s.sendBytes);
      s.recv.sample(now, s.recvBytes);
    }
    for (const c of this.clients.values()) {
      c.send.sample(now, c.lastOut);
      c.recv.sample(now, c.lastIn);
    }
    for (const src of this.ctx.sources.all()) {
      for (const consumer of src.consumers) {
        const before = this.droppedSeen.get(consumer) ?? 0;
        if (consumer.framesDropped > before) {
          this.framesDropped += consumer.framesDropped - before;
          this.droppedSeen.set(consumer, consumer.framesDropped);
        }
      }
    }
  }

  private seen(s: ClientSession): ClientStat {
    let c = this.clients.get(s.id);
    if (!c) {
      c = { id: s.id, session: s, lastIn: 0, lastOut: 0, send: new RateWindow(this.windowMs), recv: new RateWindow(this.windowMs), streamKey: '' };
      c.send.sample(s.createdAt, 0);
      c.recv.sample(s.createdAt, 0);
      this.clients.set(s.id, c);
      this.clientsTotal++;
    }
    return c;
  }

  vhostStat(name: string): VhostStat {
    let v = this.vhosts.get(name);
    if (!v) {
      v = { id: `vid-${randomId(7)}`, name, ...counters(this.windowMs) };
      v.send.sample(Date.now(), 0);
      v.recv.sample(Date.now(), 0);
      this.vhosts.set(name, v);
    }
    return v;
  }

  /** The stream entry for a key, created when new (hooks ask before the first refresh sees the session). */
  streamStat(vhost: string, app: string, stream: string, tcUrl: string): StreamStat {
    const key = `${vhost}/${app}/${stream}`;
    let s = this.streams.get(key);
    if (!s) {
      s = { id: `vid-${randomId(7)}`, key, vhost, app, stream, tcUrl, createdAt: Date.now(), ...counters(this.windowMs) };
      s.send.sample(Date.now(), 0);
      s.recv.sample(Date.now(), 0);
      this.streams.set(key, s);
      this.vhostStat(vhost);
    }
    if (!s.tcUrl && tcUrl) s.tcUrl = tcUrl;
    return s;
  }

  /**
   * Brings counters and the entity lists up to date with the live sessions
   * and sources (called by the timer and before every API answer).
   */
  refresh(): void {
    const live = new Set<string>();
    for (const session of this.ctx.clients.all()) {
      const c = this.seen(session);
      c.session = session;
      live.add(session.id);
      this.account(c);
    }
    for (const [id, c] of this.clients) {
      if (live.has(id)) continue;
      // Gone since the last refresh: count its last bytes, then forget it.
      this.account(c);
      this.clients.delete(id);
    }
    const wanted = new Set<string>();
    for (const src of this.ctx.sources.all()) {
      if (src.publisher || src.consumers.size > 0) {
        this.streamStat(src.vhost, src.app, src.stream, '');
        wanted.add(src.key);
      }
    }
    for (const c of this.clients.values()) if (c.streamKey) wanted.add(c.streamKey);
    for (const key of this.streams.keys()) if (!wanted.has(key)) this.streams.delete(key);
  }

  private account(c: ClientStat): void {
    const s = c.session;
    const inNow = s.bytesIn();
    const outNow = s.bytesOut();
    const dIn = Math.max(0, inNow - c.lastIn);
    const dOut = Math.max(0, outNow - c.lastOut);
    c.lastIn = Math.max(c.lastIn, inNow);
    c.lastOut = Math.max(c.lastOut, outNow);
    this.totals.recvBytes += dIn;
    this.totals.sendBytes += dOut;
    if (s.vhost) {
      const v = this.vhostStat(s.vhost);
      v.recvBytes += dIn;
      v.sendBytes += dOut;
    }
    if (s.vhost && s.stream && s.type !== 'Unknown') {
      const st = this.streamStat(s.vhost, s.app, s.stream, s.tcUrl);
      c.streamKey = st.key;
      st.recvBytes += dIn;
      st.sendBytes += dOut;
    }
  }

  source(st: StreamStat): LiveSource | undefined {
    return this.ctx.sources.get(st.vhost, st.app, st.stream);
  }

  /** Video description from the source's sequence header (cached per header frame). */
  video(src: LiveSource | undefined): VideoInfo | null {
    const h = src?.videoHeader;
    if (!h) return null;
    let info = this.videoInfo.get(h);
    if (info === undefined) {
      try {
        info = describeVideoConfig(h.codec as VideoCodec, h.payload);
      } catch {
        info = { codec: h.codec as VideoCodec, profile: 'Other', level: 'Other', width: 0, height: 0 };
      }
      this.videoInfo.set(h, info);
    }
    return info;
  }

  audio(src: LiveSource | undefined): AudioInfo | null {
    if (!src) return null;
    const h = src.audioHeader;
    if (!h) return this.headerlessAudio.get(src) ?? null;
    let info = this.audioInfo.get(h);
    if (info === undefined) {
      try {
        info = describeAudio(h.codec as AudioCodec, h.payload);
      } catch {
        info = { codec: h.codec as AudioCodec, profile: 'Other', sampleRate: 0, channels: 0 };
      }
      this.audioInfo.set(h, info);
    }
    return info;
  }

  /** Streams and clients sorted by id, as SRS pages them. */
  streamList(): StreamStat[] {
    return [...this.streams.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  clientList(): ClientStat[] {
    return [...this.clients.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  streamById(id: string): StreamStat | undefined {
    for (const s of this.streams.values()) if (s.id === id) return s;
    return undefined;
  }

  vhostById(id: string): VhostStat | undefined {
    for (const v of this.vhosts.values()) if (v.id === id) return v;
    return undefined;
  }

  /** Players and publisher of a stream: the live clients counted under its key. */
  clientsOf(key: string): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.streamKey === key && c.session.type !== 'Unknown') n++;
    return n;
  }

  streamsOf(vhost: string): number {
    let n = 0;
    for (const s of this.streams.values()) if (s.vhost === vhost) n++;
    return n;
  }

  clientsOfVhost(vhost: string): number {
    let n = 0;
    for (const c of this.clients.values()) if (c.session.vhost === vhost) n++;
    return n;
  }

  streamUrlOf(st: StreamStat): string {
    return streamUrl(st.vhost, st.app, st.stream);
  }
}
