/**
 * `security` (IP allow/deny per action) and `refer` (page URL domains) as a
 * SessionPolicy, with SRS's rules (contract §5.12):
 * - security off ⇒ allow; on ⇒ a matching deny refuses (1053); a matching
 *   allow admits; if any allow rule exists and none matched, or there are no
 *   rules at all, refuse (1054 / 1052); only deny rules and none matched ⇒ allow.
 * - refer applies to RTMP (as in SRS): the pageUrl's host must end with one
 *   of the listed domains; `all` at connect, `play`/`publish` at start.
 * Rules are read from the vhost per session, so a reload applies at once.
 */
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession } from '../../core/client-registry.js';
import { AccessDenied, type SessionPolicy } from '../../core/session-policy.js';
import type { SecurityConfig, ReferConfig } from '../../config/server-config.js';
import { parseIpRule, ruleMatches, type IpRule } from './ip-match.js';

const ERROR_SECURITY_CHECK = 1052;
const ERROR_SECURITY_DENY = 1053;
const ERROR_SECURITY_ALLOW = 1054;
const ERROR_REFER_DENIED = 2015;

export type SecurityAction = 'publish' | 'play';

export type SecurityVerdict = { ok: true } | { ok: false; code: number; reason: string };

const ruleCache = new Map<string, IpRule | null>();

function compiled(target: string): IpRule | null {
  let r = ruleCache.get(target);
  if (r === undefined) {
    try {
      r = parseIpRule(target);
    } catch {
      r = null; // an unparsable target never matches (SRS compares strings)
    }
    if (ruleCache.size > 10_000) ruleCache.clear();
    ruleCache.set(target, r);
  }
  return r;
}

/** SRS's security check for one peer and action. */
export function checkSecurity(cfg: SecurityConfig, action: SecurityAction, ip: string): SecurityVerdict {
  if (!cfg.enabled) return { ok: true };
  if (cfg.rules.length === 0) return { ok: false, code: ERROR_SECURITY_CHECK, reason: 'security enabled without rules' };
  const matches = (target: string): boolean => {
    const r = compiled(target);
    return r !== null ? ruleMatches(r, ip) : target === ip;
  };
  for (const rule of cfg.rules) {
    if (rule.action === 'deny' && rule.scope === action && matches(rule.target)) {
      return { ok: false, code: ERROR_SECURITY_DENY, reason: `${ip} denied for ${action} by "deny ${action} ${rule.target}"` };
    }
  }
  for (const rule of cfg.rules) {
    if (rule.action === 'allow' && rule.scope === action && matches(rule.target)) return { ok: true };
  }
  if (cfg.rules.some((r) => r.action === 'allow')) {
    return { ok: false, code: ERROR_SECURITY_ALLOW, reason: `${ip} not allowed to ${action}` };
  }
  return { ok: true };
}

/** The host of a page URL, without scheme, port and path. */
export function pageHost(pageUrl: string): string {
  let s = pageUrl.trim();
  const scheme = s.indexOf('://');
  if (scheme >= 0) s = s.slice(scheme + 3);
  s = s.split(/[/?#]/)[0] ?? '';
  if (s.startsWith('[')) return s.slice(1, s.indexOf(']') > 0 ? s.indexOf(']') : undefined);
  return s.replace(/:\d*$/, '').toLowerCase();
}

/** SRS's refer check: no list ⇒ allow; else the page host must end with a listed domain. */
export function checkRefer(domains: readonly string[], pageUrl: string): boolean {
  if (domains.length === 0) return true;
  const host = pageHost(pageUrl);
  return domains.some((d) => host.endsWith(d.toLowerCase()));
}

const RTMP_TYPES = new Set(['Unknown', 'rtmp-play', 'fmle-publish', 'flash-publish']);

export class SecurityPolicy implements SessionPolicy {
  readonly name = 'security';

  constructor(private readonly ctx: ServerContext) {}

  onConnect(s: ClientSession): void {
    const v = this.ctx.vhost(s.vhost);
    if (!v || s.type !== 'Unknown') return;
    this.refer(v.refer, v.refer.all, s);
  }

  onPublish(s: ClientSession): void {
    this.check(s, 'publish');
  }

  onPlay(s: ClientSession): void {
    this.check(s, 'play');
  }

  private check(s: ClientSession, action: SecurityAction): void {
    const v = this.ctx.vhost(s.vhost);
    if (!v) return;
    if (RTMP_TYPES.has(s.type)) this.refer(v.refer, action === 'play' ? v.refer.play : v.refer.publish, s);
    const verdict = checkSecurity(v.security, action, s.ip);
    if (!verdict.ok) {
      throw new AccessDenied(`security: ${verdict.reason}`, verdict.code);
    }
  }

  private refer(cfg: ReferConfig, domains: readonly string[], s: ClientSession): void {
    if (!cfg.enabled) return;
    if (checkRefer(domains, s.pageUrl)) return;
    throw new AccessDenied(`refer: page ${JSON.stringify(s.pageUrl)} is not from an allowed domain`, ERROR_REFER_DENIED);
  }
}
