/**
 * MPEG-DASH MPD writer (ISO/IEC 23009-1) for live streams: one dynamic
 * Period, one AdaptationSet per track, SegmentTemplate with a
 * SegmentTimeline so that players know each segment's exact time. Pure.
 */

export interface MpdTimelineEntry {
  /** Start, in the representation's timescale. */
  t: number;
  /** Duration, in the representation's timescale. */
  d: number;
}

export interface MpdRepresentation {
  /** `video` or `audio`: also the file prefix (`$RepresentationID$-init.mp4`). */
  id: string;
  kind: 'video' | 'audio';
  codecs: string;
  bandwidth: number;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  timescale: number;
  startNumber: number;
  timeline: readonly MpdTimelineEntry[];
}

export interface MpdDocument {
  availabilityStartTime: Date;
  publishTime: Date;
  /** Seconds. */
  minimumUpdatePeriod: number;
  timeShiftBufferDepth: number;
  minBufferTime: number;
  maxSegmentDuration: number;
  suggestedPresentationDelay: number;
  /** Relative URL of the segment directory, with a trailing `/`. */
  baseUrl: string;
  representations: readonly MpdRepresentation[];
}

function isoDuration(seconds: number): string {
  return `PT${Math.max(0, seconds).toFixed(3)}S`;
}

function isoTime(d: Date): string {
  return d.toISOString();
}

function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** The MPD element's attributes (the part every live MPD here shares). */
type MpdTiming = Omit<MpdDocument, 'baseUrl' | 'representations'>;

function mpdOpen(doc: MpdTiming): string {
  return (
    '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" type="dynamic"' +
    ` availabilityStartTime="${isoTime(doc.availabilityStartTime)}" publishTime="${isoTime(doc.publishTime)}"` +
    ` minimumUpdatePeriod="${isoDuration(doc.minimumUpdatePeriod)}" timeShiftBufferDepth="${isoDuration(doc.timeShiftBufferDepth)}"` +
    ` minBufferTime="${isoDuration(doc.minBufferTime)}" maxSegmentDuration="${isoDuration(doc.maxSegmentDuration)}"` +
    ` suggestedPresentationDelay="${isoDuration(doc.suggestedPresentationDelay)}">`
  );
}

export function writeMpd(doc: MpdDocument): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>',
    mpdOpen(doc),
    `  <BaseURL>${xmlAttr(doc.baseUrl)}</BaseURL>`,
    '  <Period id="0" start="PT0S">',
  ];
  for (const r of doc.representations) {
    const video = r.kind === 'video';
    out.push(
      `    <AdaptationSet mimeType="${video ? 'video/mp4' : 'audio/mp4'}" contentType="${r.kind}" segmentAlignment="true" startWithSAP="1">`,
      `      <SegmentTemplate timescale="${r.timescale}" initialization="$RepresentationID$-init.mp4" media="$RepresentationID$-$Number$.m4s" startNumber="${r.startNumber}">`,
      '        <SegmentTimeline>',
    );
    for (const s of r.timeline) out.push(`          <S t="${Math.round(s.t)}" d="${Math.round(s.d)}"/>`);
    out.push('        </SegmentTimeline>', '      </SegmentTemplate>');
    const attrs = [`id="${xmlAttr(r.id)}"`, `codecs="${xmlAttr(r.codecs)}"`, `bandwidth="${Math.max(1, Math.round(r.bandwidth))}"`];
    if (video) {
      if (r.width) attrs.push(`width="${r.width}"`);
      if (r.height) attrs.push(`height="${r.height}"`);
    } else if (r.sampleRate) attrs.push(`audioSamplingRate="${r.sampleRate}"`);
    out.push(`      <Representation ${attrs.join(' ')}>`);
    if (!video) {
      out.push(
        `        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${r.channels || 2}"/>`,
      );
    }
    out.push('      </Representation>', '    </AdaptationSet>');
  }
  out.push('  </Period>', '</MPD>');
  return `${out.join('\n')}\n`;
}

/** The MPD with `key=value` added to every SegmentTemplate's initialization and media URLs (a player session's id). */
export function addQueryToMpdTemplates(mpd: string, key: string, value: string): string {
  const q = `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
  return mpd.replace(/ (initialization|media)="([^"]*)"/g, (_m, attr: string, uri: string) => ` ${attr}="${uri}${uri.includes('?') ? '&amp;' : '?'}${q}"`);
}

/** A Representation of an ABR ladder's MPD: its files are in its own stream's directory. */
export interface MpdLadderRepresentation extends MpdRepresentation {
  /** Relative URL of the init segment (`livestream_180p/video-init.mp4`). */
  initialization: string;
  /** Relative URL template of the segments, with `$Number$`. */
  media: string;
  /** Frames per second; omitted when unknown. */
  frameRate?: number;
}

export interface MpdLadderDocument extends MpdTiming {
  video: readonly MpdLadderRepresentation[];
  audio: readonly MpdLadderRepresentation[];
}

/** DASH's FrameRateType: an integer, or a ratio (`29970/1000`). */
function frameRateAttr(fps: number): string {
  const r = Math.round(fps);
  return Math.abs(fps - r) < 0.01 ? String(r) : `${Math.round(fps * 1000)}/1000`;
}

/**
 * The MPD of an ABR ladder: one video AdaptationSet with a Representation
 * per rung (a player switches among them), one audio AdaptationSet. Each
 * Representation has its own SegmentTemplate and SegmentTimeline (the rungs
 * are separate streams, each with its own window); the writer of the rungs
 * puts the same segment numbers and times on the same media.
 */
export function writeLadderMpd(doc: MpdLadderDocument): string {
  const out: string[] = ['<?xml version="1.0" encoding="utf-8"?>', mpdOpen(doc), '  <Period id="0" start="PT0S">'];
  for (const [kind, reps] of [['video', doc.video], ['audio', doc.audio]] as const) {
    if (reps.length === 0) continue;
    const video = kind === 'video';
    let set = `    <AdaptationSet mimeType="${video ? 'video/mp4' : 'audio/mp4'}" contentType="${kind}" segmentAlignment="true" startWithSAP="1"`;
    if (video) {
      const w = Math.max(0, ...reps.map((r) => r.width ?? 0));
      const h = Math.max(0, ...reps.map((r) => r.height ?? 0));
      if (w > 0 && h > 0) set += ` maxWidth="${w}" maxHeight="${h}"`;
    }
    out.push(`${set}>`);
    for (const r of reps) {
      const attrs = [`id="${xmlAttr(r.id)}"`, `codecs="${xmlAttr(r.codecs)}"`, `bandwidth="${Math.max(1, Math.round(r.bandwidth))}"`];
      if (video) {
        if (r.width) attrs.push(`width="${r.width}"`);
        if (r.height) attrs.push(`height="${r.height}"`);
        if (r.frameRate !== undefined && r.frameRate > 0) attrs.push(`frameRate="${frameRateAttr(r.frameRate)}"`);
      } else if (r.sampleRate) attrs.push(`audioSamplingRate="${r.sampleRate}"`);
      out.push(`      <Representation ${attrs.join(' ')}>`);
      if (!video) {
        out.push(`        <AudioChannelConfiguration schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="${r.channels || 2}"/>`);
      }
      out.push(
        `        <SegmentTemplate timescale="${r.timescale}" initialization="${xmlAttr(r.initialization)}" media="${xmlAttr(r.media)}" startNumber="${r.startNumber}">`,
        '          <SegmentTimeline>',
      );
      for (const s of r.timeline) out.push(`            <S t="${Math.round(s.t)}" d="${Math.round(s.d)}"/>`);
      out.push('          </SegmentTimeline>', '        </SegmentTemplate>', '      </Representation>');
    }
    out.push('    </AdaptationSet>');
  }
  out.push('  </Period>', '</MPD>');
  return `${out.join('\n')}\n`;
}
