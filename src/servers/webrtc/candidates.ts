/**
 * The ICE candidates a server puts in its answers, SRS's way: `eip` from the
 * request, the API host (`api_as_candidates`), `rtc_server.candidate`, or
 * every non-loopback interface address (`candidate *` with
 * `use_auto_detect_network_ip on`), filtered by `ip_family`.
 */
import { networkInterfaces } from 'node:os';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { RtcServerConfig } from '../../config/server-config.js';

export interface CandidateRequest {
  /** `eip` or `candidate` from the query: an IP, optionally `ip:port`. */
  eip: string | null;
  /** Host header, without the port. */
  apiHost: string | null;
}

function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1' || ip === 'localhost';
}

function familyOk(ip: string, family: RtcServerConfig['ipFamily']): boolean {
  const v = isIP(ip);
  if (v === 0) return true; // a kept domain name
  return family === 'all' || (family === 'ipv4' ? v === 4 : v === 6);
}

/** The addresses (ip or ip:port) to announce, de-duplicated, in SRS's order. */
export async function candidateAddresses(cfg: RtcServerConfig, req: CandidateRequest): Promise<string[]> {
  const out: string[] = [];
  const add = (a: string): void => {
    if (a && !out.includes(a)) out.push(a);
  };
  if (req.eip) add(req.eip);
  if (cfg.apiAsCandidates && req.apiHost && !isLoopback(req.apiHost)) {
    if (isIP(req.apiHost)) add(req.apiHost);
    else if (cfg.keepApiDomain) add(req.apiHost);
    else if (cfg.resolveApiDomain) {
      try {
        add((await lookup(req.apiHost, { family: cfg.ipFamily === 'ipv6' ? 6 : 4 })).address);
      } catch {
        /* an unresolvable Host is not a candidate */
      }
    }
  }
  if (cfg.candidate !== '*' && cfg.candidate !== '0.0.0.0') add(cfg.candidate);
  else if (cfg.useAutoDetectNetworkIp) {
    for (const list of Object.values(networkInterfaces())) {
      for (const i of list ?? []) if (!i.internal && !isLoopback(i.address)) add(i.address);
    }
  }
  return out.filter((a) => familyOk(a.replace(/:\d+$/, ''), cfg.ipFamily));
}

/** Candidate lines (without `a=`) for the addresses: UDP and/or passive TCP per `protocol`. */
export function candidateLines(addresses: readonly string[], cfg: RtcServerConfig, tcpEnabled: boolean): string[] {
  const lines: string[] = [];
  let f = 0;
  for (const a of addresses) {
    const m = /^(.*?)(?::(\d+))?$/.exec(a.includes(':') && isIP(a) === 6 ? `${a}` : a)!;
    const ip = isIP(a) === 6 ? a : m[1]!;
    const port = isIP(a) === 6 ? undefined : m[2];
    if (cfg.protocol !== 'tcp') lines.push(`candidate:${++f} 1 udp 2130706431 ${ip} ${port ?? cfg.listen} typ host generation 0`);
    if (tcpEnabled && cfg.protocol !== 'udp') lines.push(`candidate:${++f} 1 tcp 1694498815 ${ip} ${cfg.tcp.listen} typ host tcptype passive generation 0`);
  }
  return lines;
}
