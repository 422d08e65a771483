/**
 * API access control (`http_api.auth`): SRS's HTTP Basic user (full access),
 * plus bearer tokens — `token` (full) and `readonly_token` (reads only).
 * Only paths containing `/api/` are guarded, as in SRS; with SRS 7's
 * `rtc_bearer_enabled on`, `/rtc/` signaling (WHIP, WHEP, play/publish) too,
 * by bearer token only. SRS 7's `type basic|bearer` keeps one scheme (unset:
 * both, as before). A refusal is a bare
 * 401 (or 403 for a read-only credential asking for a change), with no detail.
 * What counts as a change is decided by the action, not the HTTP verb:
 * `GET /api/v1/raw?rpc=reload` reloads, so it is a change.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { HttpApiConfig } from '../config/server-config.js';

export type AuthResult =
  | { ok: true; access: 'full' | 'read' }
  | { ok: false; status: 401 | 403; challenge: boolean };

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function needsAuth(path: string): boolean {
  return path.includes('/api/');
}

/** `/rtc/` signaling guarded by a bearer token (SRS 7 `rtc_bearer_enabled`). */
export function needsRtcBearer(cfg: HttpApiConfig['auth'], path: string): boolean {
  return cfg.enabled && cfg.rtcBearer && path.includes('/rtc/');
}

/** raw API calls that only read (SRS's `rpc=raw` and `rpc=reload-fetch`); any other rpc may change state. */
const READ_ONLY_RPCS: ReadonlySet<string> = new Set(['raw', 'reload-fetch']);

/**
 * Whether a request may change the server's state: every method but GET/HEAD
 * (`method` is the effective one, after a JSONP `method=` override, so
 * `?callback=x&method=DELETE` is a change) and every raw rpc that is not a read.
 * Unknown actions count as changes, so a new write is guarded before it exists.
 */
export function changesState(method: string, url: URL): boolean {
  if (method !== 'GET' && method !== 'HEAD') return true;
  if (url.pathname.replace(/\/+$/, '') === '/api/v1/raw') return !READ_ONLY_RPCS.has(url.searchParams.get('rpc') ?? '');
  return false;
}

/** Decides one request; `write` from changesState; `only` narrows the schemes to one (the rtc guard). */
export function authorize(cfg: HttpApiConfig['auth'], req: IncomingMessage, write: boolean, only?: 'bearer'): AuthResult {
  if (!cfg.enabled) return { ok: true, access: 'full' };
  const header = req.headers.authorization;
  if (typeof header !== 'string' || header === '') return { ok: false, status: 401, challenge: true };
  const space = header.indexOf(' ');
  const scheme = (space > 0 ? header.slice(0, space) : header).toLowerCase();
  const cred = space > 0 ? header.slice(space + 1).trim() : '';
  let access: 'full' | 'read' | null = null;
  const allowed = only ?? cfg.type;
  if (allowed !== '' && scheme !== allowed) return { ok: false, status: 401, challenge: scheme === 'basic' || scheme === 'bearer' };
  if (scheme === 'basic') {
    let decoded: string;
    try {
      decoded = Buffer.from(cred, 'base64').toString('utf8');
    } catch {
      return { ok: false, status: 401, challenge: false };
    }
    const parts = decoded.split(':');
    if (parts.length !== 2) return { ok: false, status: 401, challenge: false };
    if (same(parts[0]!, cfg.username) && same(parts[1]!, cfg.password)) access = 'full';
  } else if (scheme === 'bearer') {
    if (cfg.token && same(cred, cfg.token)) access = 'full';
    else if (cfg.readonlyToken && same(cred, cfg.readonlyToken)) access = 'read';
  } else {
    return { ok: false, status: 401, challenge: false };
  }
  if (!access) return { ok: false, status: 401, challenge: true };
  if (access === 'read' && write) return { ok: false, status: 403, challenge: false };
  return { ok: true, access };
}
