/**
 * Peer-provided text in a log line is clipped: a hostile client must not be
 * able to write megabytes per line (issue 11). The length stays visible.
 * A `token=` value (a JWT in a stream param or URL) is never written whole.
 */

/** Default cap for a URL, stream name or reason in a log line. */
const LOG_TEXT_MAX = 256;

/** `text` as is when short, else its first `max` characters and its full length. */
export function clip(text: string, max = LOG_TEXT_MAX): string {
  if (text.includes('token=')) text = redactTokens(text);
  if (text.length <= max) return text;
  return `${text.slice(0, max)}…(${Buffer.byteLength(text, 'utf8')} bytes)`;
}

/** `token=<value>` with only the value's first 4 characters kept (enough to tell a JWT from a typo); also for API answers. */
export function redactTokens(text: string): string {
  return text.replace(/(\btoken=)([^&\s#"']+)/g, (_m, key: string, value: string) => (value.length <= 8 ? `${key}***` : `${key}${value.slice(0, 4)}…(${value.length} chars)`));
}
