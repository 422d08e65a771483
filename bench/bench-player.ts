/**
 * What every bench player shares: a socket whose reads land in one buffer
 * shared by all players (Node's `onread`), byte counting, first-frame time,
 * and optional latency stamps. Subclasses parse the protocol.
 */
import net from 'node:net';
import tls from 'node:tls';
import { BenchError } from './bench-error.js';
import { readAvcStamp, wallClockMs } from './video-tag.js';

/** One read buffer for every socket of the process: reads are handled synchronously. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export abstract class BenchPlayer {
  /** performance.now() at connect start, first coded video frame, close. */
  connectAt = 0;
  firstFrameAt = 0;
  closedAt = 0;
  /** Bytes read from the socket. */
  bytes = 0;
  /** Coded video frames parsed (a skimmer stops parsing bodies after the first). */
  videoFrames = 0;
  /** Video and audio messages/tags seen, parsed or skimmed (every player counts these). */
  videoMessages = 0;
  audioMessages = 0;
  /** Continuous players only: coded audio frames, video keyframes, timestamps that went backwards. */
  audioFrames = 0;
  keyframes = 0;
  timestampRegressions = 0;
  private lastVideoTs = -1;
  private lastAudioTs = -1;
  /**
   * Continuous (srs-bench sb_rtmp_load style): assemble and parse every
   * audio and video message for the whole run, instead of skimming bodies
   * once the first frame has arrived.
   */
  continuous = false;
  error: string | null = null;
  /** Keep reading every video body for latency stamps (the probe player). */
  probe = false;
  /** Called with the server-added delay (ms) for every stamped frame when probing. */
  onStamp: ((latencyMs: number) => void) | null = null;
  protected socket: net.Socket | null = null;

  constructor(
    readonly host: string,
    readonly port: number,
    /** HTTPS-FLV: TLS first (certificate not checked: a loopback bench). */
    readonly secure = false,
  ) {}

  get closed(): boolean {
    return this.closedAt !== 0;
  }

  /** ms from connect start to the first coded video frame, NaN before it. */
  get firstFrameMs(): number {
    return this.firstFrameAt ? this.firstFrameAt - this.connectAt : NaN;
  }

  open(): void {
    this.connectAt = performance.now();
    if (this.secure) return this.openTls();
    const socket = net.connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Uint8Array): boolean => {
          this.bytes += n;
          try {
            this.data(buf as Buffer, n);
          } catch (e) {
            this.fail(e instanceof BenchError ? e.message : String(e));
            return false;
          }
          return true;
        },
      },
    });
    this.socket = socket;
    socket.on('connect', () => {
      try {
        this.connected();
      } catch (e) {
        this.fail(String(e));
      }
    });
    socket.on('error', (e) => {
      this.error ??= e.message;
    });
    socket.on('close', () => {
      this.closedAt = performance.now();
    });
  }

  /** TLS sockets take no `onread` buffer: reads arrive as 'data' events (more allocation per read than the plain path). */
  private openTls(): void {
    const socket = tls.connect({ host: this.host, port: this.port, rejectUnauthorized: false });
    socket.setNoDelay(true);
    this.socket = socket;
    socket.on('secureConnect', () => {
      try {
        this.connected();
      } catch (e) {
        this.fail(String(e));
      }
    });
    socket.on('data', (buf: Buffer) => {
      this.bytes += buf.length;
      try {
        this.data(buf, buf.length);
      } catch (e) {
        this.fail(e instanceof BenchError ? e.message : String(e));
      }
    });
    socket.on('error', (e) => {
      this.error ??= e.message;
    });
    socket.on('close', () => {
      this.closedAt = performance.now();
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  protected fail(reason: string): void {
    this.error ??= reason;
    this.socket?.destroy();
  }

  protected send(b: Buffer): void {
    this.socket?.write(b);
  }

  /** Every video body seen while assembling video; returns true once reading can stop. */
  protected video(body: Buffer, isFrame: boolean, ts = 0): boolean {
    if (this.continuous) {
      if (ts < this.lastVideoTs) this.timestampRegressions++;
      this.lastVideoTs = ts;
      // Frame type 1 (keyframe) in the high nibble, legacy and enhanced RTMP alike.
      if (isFrame && ((body[0] >> 4) & 0x07) === 1) this.keyframes++;
    }
    if (!isFrame) return false;
    this.videoFrames++;
    if (this.firstFrameAt === 0) this.firstFrameAt = performance.now();
    if (this.probe) {
      const stamp = readAvcStamp(body);
      if (stamp !== null && this.onStamp) this.onStamp(wallClockMs() - stamp);
      return false;
    }
    return !this.continuous;
  }

  /** Every audio body (continuous players): a coded frame unless it is an AAC sequence header. */
  protected audio(body: Buffer, ts: number): void {
    if (ts < this.lastAudioTs) this.timestampRegressions++;
    this.lastAudioTs = ts;
    if (body.length < 1) return;
    if (body[0] >> 4 === 10 && (body.length < 2 || body[1] === 0)) return;
    this.audioFrames++;
  }

  protected abstract connected(): void;
  protected abstract data(buf: Buffer, n: number): void;
}
