/**
 * SRS's FFmpeg command line for ingest and transcode (SrsFFMPEG): the argv
 * one engine block makes, in SRS's order: input params, `perfile`, `-f
 * iformat` (only for an rtmp:// input), `-i input`, `vfilter`, video codec
 * and its settings, audio codec and its settings, `-f oformat`, `-y output`.
 * An option block's `name value;` becomes `-name value`. `null` for the
 * engine means copy (an ingest whose engine is off or names no codec).
 * Pure: the wings add the binary and log where the child runs.
 */
import type { FfmpegOption, TranscodeEngineConfig } from '../config/vhost-config.js';

export interface EngineCommand {
  /** The FFmpeg binary (already resolved). */
  ffmpeg: string;
  /** Words before everything else (`-loglevel info`, `-re`, `-rtsp_transport tcp`). */
  iparams: readonly string[];
  input: string;
  /** null: copy video and audio (SRS's initialize_copy). */
  engine: TranscodeEngineConfig | null;
  output: string;
}

/** SRS's checks of an engine (initialize_transcode); the reason it cannot run, or null. */
export function engineProblem(e: TranscodeEngineConfig): string | null {
  if (e.vcodec === 'vn' && e.acodec === 'an') return 'video and audio both disabled (vn, an)';
  if (e.vcodec !== 'copy' && e.vcodec !== 'vn' && e.vcodec !== 'png') {
    if (e.vbitrate < 0 || e.vfps < 0 || e.vwidth < 0 || e.vheight < 0 || e.vthreads < 0) return 'negative video setting';
    if (e.vprofile === '') return 'vprofile is empty';
    if (e.vpreset === '') return 'vpreset is empty';
  }
  if (e.acodec !== 'copy' && e.acodec !== 'an') {
    if (e.abitrate < 0 || e.asampleRate < 0) return 'negative audio setting';
    if (e.achannels !== 0 && e.achannels !== 1 && e.achannels !== 2) return `achannels must be 1 or 2, not ${e.achannels}`;
  }
  if (e.output === '') return 'output is empty';
  return null;
}

function optionWords(opts: readonly FfmpegOption[]): string[] {
  const out: string[] = [];
  for (const o of opts) {
    out.push(`-${o.name}`);
    // SRS takes the first argument only.
    const v = o.args[0];
    if (v !== undefined && v !== '') out.push(v);
  }
  return out;
}

/** SRS's `%.2f`-free float: 25 → "25", 29.97 → "29.97". */
function num(n: number): string {
  return String(Math.round(n * 100) / 100);
}

export function engineArgv(c: EngineCommand): string[] {
  const e = c.engine;
  const vcodec = e ? e.vcodec : 'copy';
  const acodec = e ? e.acodec : 'copy';
  const argv = [c.ffmpeg, ...c.iparams.filter((w) => w !== '')];
  if (e) argv.push(...optionWords(e.perfile));
  // SRS: "-f flv" before a non-RTMP input would break it (e.g. udp://).
  const iformat = e && c.input.startsWith('rtmp://') ? e.iformat : '';
  if (iformat !== '' && iformat !== 'off') argv.push('-f', iformat);
  argv.push('-i', c.input);
  if (e) argv.push(...optionWords(e.vfilter));
  if (vcodec === 'vn') argv.push('-vn');
  else argv.push('-vcodec', vcodec);
  if (e && vcodec !== 'copy' && vcodec !== 'vn') {
    // Even sizes (SRS rounds down), as libx264 requires.
    const w = e.vwidth - (e.vwidth % 2);
    const h = e.vheight - (e.vheight % 2);
    if (e.vbitrate > 0) argv.push('-b:v', String(e.vbitrate * 1000));
    if (e.vfps > 0) argv.push('-r', num(e.vfps));
    if (w > 0 && h > 0) argv.push('-s', `${w}x${h}`, '-aspect', `${w}:${h}`);
    if (e.vthreads > 0) argv.push('-threads', String(e.vthreads));
    if (e.vprofile !== '') argv.push('-profile:v', e.vprofile);
    if (e.vpreset !== '') argv.push('-preset', e.vpreset);
    argv.push(...optionWords(e.vparams));
  }
  if (acodec === 'an') argv.push('-an');
  else argv.push('-acodec', acodec);
  if (e && acodec !== 'an') {
    if (acodec !== 'copy') {
      if (e.abitrate > 0) argv.push('-b:a', String(e.abitrate * 1000));
      if (e.asampleRate > 0) argv.push('-ar', String(e.asampleRate));
      if (e.achannels > 0) argv.push('-ac', String(e.achannels));
      argv.push(...optionWords(e.aparams));
    } else {
      // SRS keeps only the ADTS→ASC filter of aparams when copying audio.
      const words = optionWords(e.aparams);
      for (let i = 0; i + 1 < words.length; i++) if (words[i] === '-bsf:a' && words[i + 1] === 'aac_adtstoasc') argv.push('-bsf:a', 'aac_adtstoasc');
    }
  }
  const oformat = e ? e.oformat : 'flv';
  if (oformat !== '' && oformat !== 'off') argv.push('-f', oformat);
  argv.push('-y', c.output);
  return argv;
}

/** Every encoder an engine asks for (not copy, vn, an). */
export function engineEncoders(e: TranscodeEngineConfig): string[] {
  return [e.vcodec, e.acodec].filter((c) => c !== '' && c !== 'copy' && c !== 'vn' && c !== 'an');
}
