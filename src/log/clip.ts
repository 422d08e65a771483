/**
 * Peer-provided text in a log line is clipped: a hostile client must not be
 * able to write megabytes per line (issue 11). The length stays visible.
 */

/** Default cap for a URL, stream name or reason in a log line. */
const LOG_TEXT_MAX = 256;

/** `text` as is when short, else its first `max` characters and its full length. */
export function clip(text: string, max = LOG_TEXT_MAX): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…(${Buffer.byteLength(text, 'utf8')} bytes)`;
}
