/**
 * MediaFrame <-> FLV: frames from FLV/RTMP keep their tag body (no copy);
 * frames from elsewhere get one built once and cached on the frame, and the
 * serialized tag is cached on the frame (FLV_TAG) for every HTTP-FLV player.
 */
import { MediaFrame } from '../codec/media-frame.js';
import { WireFormat } from '../codec/wire-format.js';
import { parseMpegAudioHeader } from '../codec/mp3.js';
import { CodecError } from '../codec/codec-error.js';
import { FlvError } from './flv-error.js';
import { encodeFlvTag } from './flv-tag.js';
import {
  FlvTagType,
  FlvVideoCodecId,
  FourCC,
  buildAacBody,
  buildExAudioBody,
  buildExVideoBody,
  buildLegacyVideoBody,
  buildMp3Body,
  parseFlvAudioBody,
  parseFlvVideoBody,
} from './flv-tag-body.js';

/**
 * Builds a MediaFrame from an FLV tag (or RTMP audio/video/data message).
 * `flvBody` is `body` itself, `payload` a subarray of it. Returns null for
 * tags that carry no frame (see parseFlvVideoBody/parseFlvAudioBody, plus
 * end-of-sequence packets and unknown tag types). Throws FlvError on bad bodies.
 */
export function frameFromFlvTag(tagType: number, timestamp: number, body: Buffer): MediaFrame | null {
  switch (tagType) {
    case FlvTagType.Video: {
      const v = parseFlvVideoBody(body);
      if (!v || v.endOfSequence) return null;
      return new MediaFrame('video', v.codec, timestamp, timestamp + v.cts, v.keyframe, v.header, v.payload, body);
    }
    case FlvTagType.Audio: {
      const a = parseFlvAudioBody(body);
      if (!a) return null;
      return new MediaFrame('audio', a.codec, timestamp, timestamp, false, a.header, a.payload, body);
    }
    case FlvTagType.Script:
      return new MediaFrame('script', 'AMF0', timestamp, timestamp, false, false, body, body);
    default:
      return null;
  }
}

/**
 * The FLV tag body of a frame: `frame.flvBody` when set, otherwise built
 * (legacy AVC/AAC/MP3; Enhanced RTMP for HEVC, AV1, VP9, VP8, Opus) and
 * stored in `frame.flvBody` so that it is built once.
 */
export function flvBodyFromFrame(frame: MediaFrame): Buffer {
  if (frame.flvBody) return frame.flvBody;
  const body = buildBody(frame);
  frame.flvBody = body;
  return body;
}

function buildBody(frame: MediaFrame): Buffer {
  const { payload } = frame;
  const cts = frame.pts - frame.dts;
  switch (frame.codec) {
    case 'AMF0':
      return payload;
    case 'H264':
      return buildLegacyVideoBody(FlvVideoCodecId.AVC, frame.keyframe, frame.header, cts, payload);
    case 'HEVC':
      return buildExVideoBody(FourCC.hvc1, frame.keyframe, frame.header, cts, payload);
    case 'AV1':
      return buildExVideoBody(FourCC.av01, frame.keyframe, frame.header, cts, payload);
    case 'VP9':
      return buildExVideoBody(FourCC.vp09, frame.keyframe, frame.header, cts, payload);
    case 'VP8':
      return buildExVideoBody(FourCC.vp08, frame.keyframe, frame.header, cts, payload);
    case 'AAC':
      return buildAacBody(frame.header, payload);
    case 'Opus':
      return buildExAudioBody(FourCC.Opus, frame.header, payload);
    case 'MP3': {
      let rate = 44100;
      let channels = 2;
      try {
        const h = parseMpegAudioHeader(payload);
        rate = h.sampleRate;
        channels = h.channels;
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
      }
      return buildMp3Body(payload, rate, channels);
    }
    default:
      throw new FlvError(`FLV: cannot build a ${frame.kind} tag body for codec ${frame.codec}`);
  }
}

function flvTagTypeOf(frame: MediaFrame): number {
  return frame.kind === 'video' ? FlvTagType.Video : frame.kind === 'audio' ? FlvTagType.Audio : FlvTagType.Script;
}

/** A frame's complete FLV tag (11-byte header, body, previous-tag-size) at its dts. */
export const FLV_TAG = new WireFormat<Buffer>('flv-tag');

/** The frame's complete FLV tag at its dts, serialized once and cached on the frame. */
export function flvTagOf(frame: MediaFrame): Buffer {
  return frame.wire(FLV_TAG) ?? frame.setWire(FLV_TAG, encodeFlvTag(flvTagTypeOf(frame), frame.dts, flvBodyFromFrame(frame)));
}
