/**
 * FLV recording: the FLV header (flags from the sequence headers seen before
 * the first media frame), then every frame's tag as the HTTP-FLV egress
 * writes it (legacy AVC/AAC/MP3, Enhanced RTMP for HEVC, AV1, VP9, Opus).
 * A tag is complete on disk once written, so a file cut short by a crash
 * plays up to its last tag.
 *
 * As SRS does, the publisher's onMetaData gets its `duration` and `filesize`
 * replaced (an encoder writes what it planned, e.g. ffmpeg's `-t`, which
 * players would show) by zeros that are patched with the truth on close.
 */
import type { MediaFrame } from '../../codec/media-frame.js';
import { Amf0EcmaArray, decodeAmf0, encodeAmf0, type Amf0Object } from '../../format/amf0.js';
import { encodeFlvHeader, flvBodyFromFrame } from '../../format/flv.js';
import { FlvTagType, isOnMetaData } from '../../format/flv-tag-body.js';
import { FLV_TAG_HEADER_SIZE, encodeFlvTag } from '../../format/flv-tag.js';
import type { DvrMuxer, FilePatch } from './dvr-muxer.js';

/** AMF0 key `duration` (u16 length + name) then the number marker; its 8 bytes follow. */
const DURATION_KEY = Buffer.from('\x00\x08duration\x00', 'latin1');
const FILESIZE_KEY = Buffer.from('\x00\x08filesize\x00', 'latin1');

export class FlvDvrMuxer implements DvrMuxer {
  readonly skipped: string[] = [];
  private held: MediaFrame[] = [];
  private started = false;
  /** Bytes emitted so far: the file offset of the next tag. */
  private pos = 0;
  private lastDts = 0;
  private readonly durationAt: number[] = [];
  private readonly filesizeAt: number[] = [];

  push(f: MediaFrame): Buffer[] {
    if (!this.started) {
      if (f.kind === 'script' || f.header) {
        this.held.push(f);
        return [];
      }
      this.started = true;
      const hasVideo = f.kind === 'video' || this.held.some((h) => h.kind === 'video');
      const hasAudio = f.kind === 'audio' || this.held.some((h) => h.kind === 'audio');
      const header = encodeFlvHeader(hasAudio, hasVideo);
      this.pos = header.length;
      const out = [header, ...this.held.map((h) => this.tag(h))];
      this.held = [];
      out.push(this.tag(f));
      return out;
    }
    return [this.tag(f)];
  }

  end(): Buffer[] {
    return [];
  }

  patches(): FilePatch[] {
    const num = (v: number): Buffer => {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v);
      return b;
    };
    return [
      ...this.durationAt.map((offset) => ({ offset, data: num(this.lastDts / 1000) })),
      ...this.filesizeAt.map((offset) => ({ offset, data: num(this.pos) })),
    ];
  }

  private tag(f: MediaFrame): Buffer {
    const type = f.kind === 'video' ? FlvTagType.Video : f.kind === 'audio' ? FlvTagType.Audio : FlvTagType.Script;
    let body = flvBodyFromFrame(f);
    if (f.kind === 'script') {
      body = rewriteMetadata(body) ?? body;
      const d = body.indexOf(DURATION_KEY);
      const s = body.indexOf(FILESIZE_KEY);
      if (d >= 0) this.durationAt.push(this.pos + FLV_TAG_HEADER_SIZE + d + DURATION_KEY.length);
      if (s >= 0) this.filesizeAt.push(this.pos + FLV_TAG_HEADER_SIZE + s + FILESIZE_KEY.length);
    } else if (f.dts > this.lastDts) this.lastDts = f.dts;
    const t = encodeFlvTag(type, f.dts, body);
    this.pos += t.length;
    return t;
  }
}

/** onMetaData with `duration` and `filesize` set to 0 (patched on close); null when it is not one. */
function rewriteMetadata(body: Buffer): Buffer | null {
  if (!isOnMetaData(body)) return null;
  try {
    const values = decodeAmf0(body, 2);
    const meta = values[1];
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || meta instanceof Date) return null;
    const src = (meta instanceof Amf0EcmaArray ? meta.value : meta) as Amf0Object;
    const rest: Amf0Object = {};
    for (const [k, v] of Object.entries(src)) if (k !== 'duration' && k !== 'filesize') rest[k] = v;
    rest.duration = 0;
    rest.filesize = 0;
    return encodeAmf0(['onMetaData', new Amf0EcmaArray(rest)]);
  } catch {
    return null;
  }
}
