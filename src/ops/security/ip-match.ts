/**
 * IP rules for `security { allow|deny publish|play <target>; }`: `all`, an
 * exact IPv4/IPv6 address, or a CIDR of either family. IPv4-mapped IPv6
 * peers (`::ffff:10.0.0.1`, what a dual-stack socket reports) match IPv4 rules.
 */
import { isIPv4, isIPv6 } from 'node:net';

export class IpRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpRuleError';
  }
}

interface ParsedAddress {
  v6: boolean;
  /** 32 or 128 bits. */
  value: bigint;
}

export interface IpRule {
  readonly all: boolean;
  readonly v6: boolean;
  readonly network: bigint;
  readonly prefix: number;
}

function parseV4(text: string): bigint {
  const parts = text.split('.');
  let v = 0n;
  for (const p of parts) v = (v << 8n) | BigInt(Number(p));
  return v;
}

function parseV6(text: string): bigint {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // A trailing dotted IPv4 becomes two hextets.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g || '0', 16));
  return v;
}

/** Parses a peer address; IPv4-mapped IPv6 becomes IPv4. Null when it is not an IP. */
export function parseAddress(text: string): ParsedAddress | null {
  const t = text.trim().replace(/^\[|\]$/g, '');
  if (isIPv4(t)) return { v6: false, value: parseV4(t) };
  if (isIPv6(t)) {
    const v = parseV6(t);
    if (v >> 32n === 0xffffn) return { v6: false, value: v & 0xffffffffn };
    return { v6: true, value: v };
  }
  return null;
}

/** Parses a rule target. Throws IpRuleError for anything else. */
export function parseIpRule(target: string): IpRule {
  const t = target.trim();
  if (t === 'all') return { all: true, v6: false, network: 0n, prefix: 0 };
  const slash = t.indexOf('/');
  const addrText = slash >= 0 ? t.slice(0, slash) : t;
  const addr = parseAddress(addrText);
  if (!addr) throw new IpRuleError(`not an IP address or CIDR: ${target}`);
  // A mapped address written as a rule stays in its own family width for the prefix.
  const writtenV6 = !isIPv4(addrText.replace(/^\[|\]$/g, ''));
  const bits = addr.v6 ? 128 : 32;
  let prefix = bits;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) throw new IpRuleError(`bad prefix length in ${target}`);
    prefix = Number(p);
    if (writtenV6 && !addr.v6) prefix -= 96; // ::ffff:a.b.c.d/120 → /24
    if (prefix < 0 || prefix > bits) throw new IpRuleError(`prefix length out of range in ${target}`);
  }
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { all: false, v6: addr.v6, network: addr.value & mask, prefix };
}

export function ruleMatches(rule: IpRule, ip: string): boolean {
  if (rule.all) return true;
  const a = parseAddress(ip);
  if (!a || a.v6 !== rule.v6) return false;
  const bits = a.v6 ? 128 : 32;
  const mask = rule.prefix === 0 ? 0n : ((1n << BigInt(rule.prefix)) - 1n) << BigInt(bits - rule.prefix);
  return (a.value & mask) === rule.network;
}
