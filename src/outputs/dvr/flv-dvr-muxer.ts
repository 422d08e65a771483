/**
 * FLV recording: the FLV header (flags from the sequence headers seen before
 * the first media frame), then every frame's tag as the HTTP-FLV egress
 * writes it (legacy AVC/AAC/MP3, Enhanced RTMP for HEVC, AV1, VP9, Opus).
 * A tag is complete on disk once written, so a file cut short by a crash
 * plays up to its last tag.
 */
import type { MediaFrame } from '../../codec/media-frame.js';
import { encodeFlvHeader, flvBodyFromFrame } from '../../format/flv.js';
import { FlvTagType } from '../../format/flv-tag-body.js';
import { encodeFlvTag } from '../../format/flv-tag.js';
import type { DvrMuxer, FilePatch } from './dvr-muxer.js';

export class FlvDvrMuxer implements DvrMuxer {
  readonly skipped: string[] = [];
  private held: MediaFrame[] = [];
  private started = false;

  push(f: MediaFrame): Buffer[] {
    if (!this.started) {
      if (f.kind === 'script' || f.header) {
        this.held.push(f);
        return [];
      }
      this.started = true;
      const hasVideo = f.kind === 'video' || this.held.some((h) => h.kind === 'video');
      const hasAudio = f.kind === 'audio' || this.held.some((h) => h.kind === 'audio');
      const out = [encodeFlvHeader(hasAudio, hasVideo), ...this.held.map(tagOf)];
      this.held = [];
      out.push(tagOf(f));
      return out;
    }
    return [tagOf(f)];
  }

  end(): Buffer[] {
    return [];
  }

  patches(): FilePatch[] {
    return [];
  }
}

function tagOf(f: MediaFrame): Buffer {
  const type = f.kind === 'video' ? FlvTagType.Video : f.kind === 'audio' ? FlvTagType.Audio : FlvTagType.Script;
  return encodeFlvTag(type, f.dts, flvBodyFromFrame(f));
}
