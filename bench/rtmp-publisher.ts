/**
 * A bench RTMP publisher: publishes the workload in real time, looping, with
 * timestamps rewritten to run on across loops. Payload bytes are shared by
 * every publisher (only a 12-byte header is written per message); a tick
 * driven by the caller sends what is due. With `stamp`, every H.264 frame
 * carries a latency stamp (SEI) taken at the moment it is written.
 */
import net from 'node:net';
import { RtmpClientHandshake } from '../src/protocol/rtmp/handshake.js';
import { encodeRtmpMessage, setChunkSizeMessage } from '../src/protocol/rtmp/chunk-writer.js';
import { BenchError } from './bench-error.js';
import { encodeCommand, parseCommand, parseRtmpUrl, statusCode } from './rtmp-command.js';
import { RtmpSkimmer } from './rtmp-skimmer.js';
import { stampAvcBody, wallClockMs } from './video-tag.js';
import { PUBLISH_CHUNK_SIZE, csidOf, type Workload, type WorkloadTag } from './workload.js';

const TID_CONNECT = 1;
const TID_CREATE_STREAM = 4;

export type PublisherState = 'connecting' | 'publishing' | 'closed';

export class BenchPublisher {
  state: PublisherState = 'connecting';
  connectAt = 0;
  /** performance.now() when NetStream.Publish.Start arrived (media time 0). */
  publishAt = 0;
  error: string | null = null;
  /** Seen with more than 2 s of media queued in user space at a tick. */
  behind = false;
  /** Messages not sent because more than 8 s of media was queued. */
  dropped = 0;
  bytesSent = 0;
  private socket: net.Socket | null = null;
  private handshake: RtmpClientHandshake | null = new RtmpClientHandshake(false);
  private readonly skimmer = new RtmpSkimmer();
  private readonly url: ReturnType<typeof parseRtmpUrl>;
  private streamId = 1;
  private index = 0;
  private loop = 0;
  private readonly media: WorkloadTag[];
  private readonly headers: WorkloadTag[];
  private readonly behindBytes: number;
  private readonly dropBytes: number;
  private readonly onMessage = this.message.bind(this);

  constructor(
    url: string,
    private readonly workload: Workload,
    private readonly stamp = false,
  ) {
    this.url = parseRtmpUrl(url);
    this.media = workload.tags.filter((t) => !t.header);
    this.headers = workload.tags.filter((t) => t.header);
    const bytesPerSec = workload.kbps * 125;
    this.behindBytes = 2 * bytesPerSec;
    this.dropBytes = 8 * bytesPerSec;
    for (const t of [4, 5, 17, 20]) this.skimmer.assemble[t] = 1;
  }

  open(): void {
    this.connectAt = performance.now();
    const s = net.connect({ host: this.url.host, port: this.url.port, noDelay: true });
    this.socket = s;
    s.on('connect', () => s.write((this.handshake as RtmpClientHandshake).start()));
    s.on('data', (d: Buffer) => {
      try {
        this.data(d);
      } catch (e) {
        this.fail(e instanceof BenchError ? e.message : String(e));
      }
    });
    s.on('error', (e) => {
      this.error ??= e.message;
    });
    s.on('close', () => {
      this.state = 'closed';
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private fail(reason: string): void {
    this.error ??= reason;
    this.socket?.destroy();
  }

  private data(d: Buffer): void {
    let rest: Buffer | null = d;
    if (this.handshake) {
      const step = this.handshake.feed(d);
      if (!step.done) return;
      this.handshake = null;
      const s = this.socket as net.Socket;
      for (const b of step.send) s.write(b);
      s.write(setChunkSizeMessage(PUBLISH_CHUNK_SIZE));
      s.write(
        encodeCommand('connect', TID_CONNECT, 0, [{ app: this.url.app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; sluice-bench)', tcUrl: this.url.tcUrl }], PUBLISH_CHUNK_SIZE),
      );
      rest = step.rest;
    }
    if (rest) this.skimmer.feed(rest, this.onMessage);
  }

  private message(type: number, _ts: number, _len: number, payload: Buffer | null): void {
    if (payload === null || (type !== 20 && type !== 17)) return;
    const cmd = parseCommand(type, payload);
    const s = this.socket as net.Socket;
    if (cmd.name === '_error') throw new BenchError(`server refused transaction ${cmd.transactionId}`);
    if (cmd.name === '_result' && cmd.transactionId === TID_CONNECT) {
      s.write(encodeCommand('releaseStream', 2, 0, [null, this.url.stream], PUBLISH_CHUNK_SIZE));
      s.write(encodeCommand('FCPublish', 3, 0, [null, this.url.stream], PUBLISH_CHUNK_SIZE));
      s.write(encodeCommand('createStream', TID_CREATE_STREAM, 0, [null], PUBLISH_CHUNK_SIZE));
    } else if (cmd.name === '_result' && cmd.transactionId === TID_CREATE_STREAM) {
      this.streamId = typeof cmd.args[1] === 'number' ? cmd.args[1] : 1;
      s.write(encodeCommand('publish', 5, this.streamId, [null, this.url.stream, 'live'], PUBLISH_CHUNK_SIZE));
    } else if (cmd.name === 'onStatus') {
      const code = statusCode(cmd);
      if (code === 'NetStream.Publish.Start' && this.state === 'connecting') {
        this.state = 'publishing';
        this.publishAt = performance.now();
        s.cork();
        for (const t of this.headers) this.write(t, 0);
        s.uncork();
        this.tick(this.publishAt);
      } else if (/BadName|Failed|Rejected/.test(code)) {
        throw new BenchError(`publish refused: ${code}`);
      }
    }
  }

  /** Sends every message due by `now` (performance.now()). */
  tick(now: number): void {
    if (this.state !== 'publishing' || !this.socket) return;
    const s = this.socket;
    const queued = s.writableLength;
    if (queued > this.behindBytes) this.behind = true;
    const elapsed = now - this.publishAt;
    const drop = queued > this.dropBytes;
    s.cork();
    for (;;) {
      const t = this.media[this.index];
      const ts = this.loop * this.workload.loopMs + t.ts;
      if (ts > elapsed) break;
      if (ts >= 0xffffff) {
        this.fail('bench publisher ran past the 24-bit RTMP timestamp');
        break;
      }
      if (drop) this.dropped++;
      else this.write(t, ts);
      if (++this.index === this.media.length) {
        this.index = 0;
        this.loop++;
      }
    }
    s.uncork();
  }

  private write(t: WorkloadTag, ts: number): void {
    const s = this.socket as net.Socket;
    if (this.stamp && t.type === 9) {
      const body = stampAvcBody(t.body, wallClockMs());
      if (body) {
        const m = encodeRtmpMessage({ type: 9, streamId: this.streamId, timestamp: ts, payload: body }, PUBLISH_CHUNK_SIZE, csidOf(9));
        this.bytesSent += m.length;
        s.write(m);
        return;
      }
    }
    const h = Buffer.allocUnsafe(12);
    t.rtmp.copy(h, 0, 0, 12);
    h[1] = ts >>> 16;
    h[2] = (ts >>> 8) & 0xff;
    h[3] = ts & 0xff;
    h.writeUInt32LE(this.streamId, 8);
    s.write(h);
    s.write(t.rtmp.subarray(12));
    this.bytesSent += t.rtmp.length;
  }
}
