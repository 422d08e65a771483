/**
 * What every HTTP-facing part asks of a request, answered once: the client's
 * address (as SRS reports it), the host the client named, and the vhost the
 * request is for.
 */
import type { IncomingMessage } from 'node:http';
import { DEFAULT_VHOST } from '../config/vhost-config.js';

/**
 * SRS's client address: the first X-Forwarded-For entry, then X-Real-IP,
 * then the socket peer. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is shown as the
 * IPv4 address, so the API, hooks and allow/deny rules see one form.
 */
export function clientIp(req: IncomingMessage): string {
  const xff = req.headers['x-forwarded-for'];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(',')[0]?.trim();
  if (first) return unmapIpv4(first);
  const real = req.headers['x-real-ip'];
  if (typeof real === 'string' && real.trim()) return unmapIpv4(real.trim().replace(/:\d+$/, ''));
  return unmapIpv4(req.socket.remoteAddress ?? '');
}

function unmapIpv4(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** The Host header without its port (and without the brackets of an IPv6 literal); null when absent. */
export function requestHost(req: IncomingMessage): string | null {
  const host = req.headers.host;
  if (!host) return null;
  const bracketed = /^\[([^\]]+)\]/.exec(host);
  if (bracketed) return bracketed[1]!;
  return host.replace(/:\d+$/, '') || null;
}

/** SRS's vhost of an HTTP request: `?vhost=`, then `?domain=`, then the Host, then the default vhost. */
export function requestVhost(req: IncomingMessage, url: URL): string {
  return url.searchParams.get('vhost') || url.searchParams.get('domain') || requestHost(req) || DEFAULT_VHOST;
}

/** The page that embeds the player (SRS's pageUrl), from the Referer header. */
export function requestPageUrl(req: IncomingMessage): string {
  return typeof req.headers.referer === 'string' ? req.headers.referer : '';
}

/** The token of the request's `Authorization: Bearer` header, or '' (for policies that authenticate streams). */
export function requestBearer(req: IncomingMessage): string {
  const header = req.headers.authorization;
  if (!header) return '';
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : '';
}
