/**
 * An RTMP player: handshake, connect, createStream, play. A skimmer (the
 * default) parses chunk headers only (bodies skipped) once the first video
 * frame has arrived; a continuous player (`continuous`, srs-bench's
 * sb_rtmp_load style) assembles and parses every audio and video message for
 * the whole run. Both answer pings and acknowledge at the window size, as
 * real players do.
 */
import { RtmpClientHandshake } from '../src/protocol/rtmp/handshake.js';
import { acknowledgementMessage, pingResponseMessage, setBufferLengthMessage } from '../src/protocol/rtmp/chunk-writer.js';
import { BenchError } from './bench-error.js';
import { BenchPlayer } from './bench-player.js';
import { encodeCommand, parseCommand, parseRtmpUrl, statusCode } from './rtmp-command.js';
import { RtmpSkimmer } from './rtmp-skimmer.js';
import { isVideoFrame } from './video-tag.js';

const TID_CONNECT = 1;
const TID_CREATE_STREAM = 2;

export class RtmpBenchPlayer extends BenchPlayer {
  private handshake: RtmpClientHandshake | null = new RtmpClientHandshake(false);
  private readonly skimmer = new RtmpSkimmer();
  private readonly app: string;
  private readonly stream: string;
  private readonly tcUrl: string;
  private ackWindow = 0;
  private ackedAt = 0;
  private readonly onMessage = this.message.bind(this);
  /** onStatus code of the play command, e.g. NetStream.Play.Start. */
  playStatus = '';

  constructor(url: string, continuous = false) {
    const u = parseRtmpUrl(url);
    super(u.host, u.port);
    this.app = u.app;
    this.stream = u.stream;
    this.tcUrl = u.tcUrl;
    this.continuous = continuous;
    for (const t of [4, 5, 9, 17, 20]) this.skimmer.assemble[t] = 1;
    if (continuous) this.skimmer.assemble[8] = 1;
  }

  protected connected(): void {
    this.send((this.handshake as RtmpClientHandshake).start());
  }

  protected data(buf: Buffer, n: number): void {
    let off = 0;
    if (this.handshake) {
      const step = this.handshake.feed(buf.subarray(0, n));
      if (!step.done) return;
      this.handshake = null;
      for (const s of step.send) this.send(s);
      this.send(
        encodeCommand(
          'connect',
          TID_CONNECT,
          0,
          [{ app: this.app, flashVer: 'LNX 9,0,124,2', tcUrl: this.tcUrl, fpad: false, capabilities: 15, audioCodecs: 4071, videoCodecs: 252, videoFunction: 1 }],
          128,
        ),
      );
      if (!step.rest) return;
      off = n - step.rest.length;
    }
    this.skimmer.feed(buf, this.onMessage, off, n);
    if (this.ackWindow > 0 && this.bytes - this.ackedAt >= this.ackWindow) {
      this.ackedAt = this.bytes;
      this.send(acknowledgementMessage(this.bytes % 0x100000000));
    }
  }

  private message(type: number, ts: number, _len: number, payload: Buffer | null): void {
    if (type === 9) this.videoMessages++;
    else if (type === 8) this.audioMessages++;
    if (payload === null) return;
    switch (type) {
      case 9:
        if (this.video(payload, isVideoFrame(payload), ts)) this.skimmer.assemble[9] = 0;
        return;
      case 8:
        this.audio(payload, ts);
        return;
      case 5:
        if (payload.length >= 4) this.ackWindow = payload.readUInt32BE(0);
        return;
      case 4:
        // Ping request (event 6): answer with the same timestamp.
        if (payload.length >= 6 && payload.readUInt16BE(0) === 6) this.send(pingResponseMessage(payload.readUInt32BE(2)));
        return;
      case 17:
      case 20:
        this.command(parseCommand(type, payload));
        return;
    }
  }

  private command(cmd: ReturnType<typeof parseCommand>): void {
    if (cmd.name === '_error') throw new BenchError(`server refused transaction ${cmd.transactionId}`);
    if (cmd.name === '_result' && cmd.transactionId === TID_CONNECT) {
      this.send(encodeCommand('createStream', TID_CREATE_STREAM, 0, [null], 128));
    } else if (cmd.name === '_result' && cmd.transactionId === TID_CREATE_STREAM) {
      const sid = typeof cmd.args[1] === 'number' ? cmd.args[1] : 1;
      this.send(setBufferLengthMessage(sid, 3000));
      this.send(encodeCommand('play', 0, sid, [null, this.stream, -2], 128));
    } else if (cmd.name === 'onStatus') {
      const code = statusCode(cmd);
      if (/^NetStream\.Play\./.test(code) && !this.playStatus) this.playStatus = code;
      if (/StreamNotFound|Failed|BadName/.test(code)) throw new BenchError(`play refused: ${code}`);
    }
  }
}
