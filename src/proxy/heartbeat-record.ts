/**
 * An origin's heartbeat body (SRS's, as ops/heartbeat posts it and SRS
 * sends it) read into an OriginRecord; null when it is not one. The body
 * comes from the network unauthenticated: strings and lists are bounded.
 */
import type { OriginRecord } from './origin-store.js';

const MAX_TEXT = 256;
const MAX_LIST = 16;

function text(v: unknown): string {
  return typeof v === 'string' && v.length <= MAX_TEXT ? v : '';
}

function list(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.slice(0, MAX_LIST).map(text).filter((s) => s !== '');
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** Clients of the origin from SRS's `summaries` (see OriginRecord.load); null without them. */
function loadOf(summaries: unknown): number | null {
  const s = obj(summaries);
  return count(obj(s.sluice).clients) ?? count(obj(s.system).conn_srs);
}

export function originFromHeartbeat(body: unknown, now: number): OriginRecord | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  const ip = text(b.ip);
  const id = text(b.device_id) || text(b.server) || ip;
  if (!id || !ip) return null;
  const record: OriginRecord = { id, ip, rtmp: list(b.rtmp), http: list(b.http), api: list(b.api), srt: list(b.srt), rtc: list(b.rtc), updatedAt: now };
  const load = loadOf(b.summaries);
  if (load !== null) record.load = load;
  return record;
}
