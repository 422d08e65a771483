/**
 * Where a client puts its token: `Authorization: Bearer` (HTTP players,
 * WHIP/WHEP), `token=` in the request's param (RTMP stream param, HTTP
 * query, SRT streamid `token=...&k=v` without a leading `?`), or `token=` in
 * the RTMP tcUrl's query. The first found wins, in that order.
 */
import { createHash } from 'node:crypto';
import type { ClientSession } from '../../core/client-registry.js';

/** A JWT longer than this is refused before it is parsed. */
export const MAX_TOKEN_CHARS = 8192;

/** `token` from a query string, with or without its leading `?`; '' when absent. */
export function tokenInQuery(query: string): string {
  const q = query.startsWith('?') ? query.slice(1) : query;
  if (!q.includes('token=')) return '';
  return new URLSearchParams(q).get('token') ?? '';
}

/** The query part of a URL (from `?`, without a `#` fragment), or ''. */
function queryOf(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return '';
  const hash = url.indexOf('#', at);
  return url.slice(at, hash < 0 ? undefined : hash);
}

export function tokenOf(s: ClientSession): string {
  if (s.bearer) return s.bearer;
  return tokenInQuery(s.param) || tokenInQuery(queryOf(s.tcUrl));
}

/** For logs: never the token itself, only enough to tell two tokens apart. */
export function tokenHint(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 12)} (${token.length} chars)`;
}
