import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpRule, ruleMatches, parseAddress, IpRuleError } from '../../src/ops/security/ip-match.js';
import { checkSecurity, checkRefer, pageHost } from '../../src/ops/security/security-policy.js';
import type { SecurityConfig } from '../../src/config/server-config.js';
import { cpuMsSince } from '../helpers/cpu-time.js';

const m = (rule: string, ip: string): boolean => ruleMatches(parseIpRule(rule), ip);

describe('IP rules', () => {
  test('IPv4 exact, CIDR and all', () => {
    assert.equal(m('all', '8.8.8.8'), true);
    assert.equal(m('all', '::1'), true);
    assert.equal(m('10.1.2.3', '10.1.2.3'), true);
    assert.equal(m('10.1.2.3', '10.1.2.4'), false);
    assert.equal(m('10.0.0.0/8', '10.200.3.4'), true);
    assert.equal(m('10.0.0.0/8', '11.0.0.1'), false);
    assert.equal(m('192.168.1.128/25', '192.168.1.200'), true);
    assert.equal(m('192.168.1.128/25', '192.168.1.100'), false);
    assert.equal(m('0.0.0.0/0', '1.2.3.4'), true);
    assert.equal(m('1.2.3.4/32', '1.2.3.4'), true);
  });

  test('IPv4-mapped IPv6 peers match IPv4 rules (dual-stack sockets)', () => {
    assert.equal(m('127.0.0.1', '::ffff:127.0.0.1'), true);
    assert.equal(m('127.0.0.0/8', '::ffff:127.9.9.9'), true);
    assert.equal(m('::ffff:10.0.0.0/104', '10.3.3.3'), true);
    assert.deepEqual(parseAddress('::ffff:1.2.3.4'), { v6: false, value: 0x01020304n });
  });

  test('IPv6 exact and CIDR', () => {
    assert.equal(m('::1', '::1'), true);
    assert.equal(m('::1', '::2'), false);
    assert.equal(m('2001:db8::/32', '2001:db8:1::5'), true);
    assert.equal(m('2001:db8::/32', '2001:db9::5'), false);
    assert.equal(m('2001:db8:0:0:0:0:0:1', '2001:db8::1'), true);
    assert.equal(m('fe80::/10', 'fe80::1%eth0'), true);
    assert.equal(m('2001:db8::/32', '10.0.0.1'), false, 'families never mix');
    assert.equal(m('10.0.0.0/8', '2001:db8::1'), false);
  });

  test('bad targets throw IpRuleError', () => {
    for (const bad of ['', 'foo', '1.2.3.4/33', '1.2.3.4/x', '::1/129', '300.1.1.1', '1.2.3']) {
      assert.throws(() => parseIpRule(bad), IpRuleError, bad);
    }
  });

  test('fuzz: random targets parse or throw IpRuleError, quickly', () => {
    const chars = '0123456789abcdef:./%all ';
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < 5000; i++) {
      let s = '';
      const n = Math.floor(Math.random() * 24);
      for (let j = 0; j < n; j++) s += chars[Math.floor(Math.random() * chars.length)];
      try {
        const r = parseIpRule(s);
        ruleMatches(r, '1.2.3.4');
        ruleMatches(r, '::1');
      } catch (err) {
        assert.ok(err instanceof IpRuleError, `${s}: ${String(err)}`);
      }
    }
    assert.ok(cpuMsSince(cpu0) < 5000, 'CPU time of the loop: a parser that loops or goes quadratic');
  });
});

describe('security rules (SRS semantics)', () => {
  const cfg = (rules: SecurityConfig['rules'], enabled = true): SecurityConfig => ({ enabled, rules });

  test('disabled allows everything; enabled without rules denies (1052)', () => {
    assert.deepEqual(checkSecurity(cfg([], false), 'publish', '1.2.3.4'), { ok: true });
    const r = checkSecurity(cfg([]), 'play', '1.2.3.4');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 1052);
  });

  test('deny wins (1053); allow admits; missing allow denies (1054); deny-only lists allow the rest', () => {
    const rules: SecurityConfig['rules'] = [
      { action: 'deny', scope: 'publish', target: '10.0.0.5' },
      { action: 'allow', scope: 'publish', target: '10.0.0.0/8' },
      { action: 'allow', scope: 'play', target: 'all' },
    ];
    const denied = checkSecurity(cfg(rules), 'publish', '10.0.0.5');
    assert.equal(!denied.ok && denied.code, 1053);
    assert.equal(checkSecurity(cfg(rules), 'publish', '10.9.9.9').ok, true);
    const outside = checkSecurity(cfg(rules), 'publish', '192.168.0.1');
    assert.equal(!outside.ok && outside.code, 1054);
    assert.equal(checkSecurity(cfg(rules), 'play', '192.168.0.1').ok, true);
    const denyOnly: SecurityConfig['rules'] = [{ action: 'deny', scope: 'play', target: '2001:db8::/32' }];
    assert.equal(checkSecurity(cfg(denyOnly), 'play', '2001:db8::7').ok, false);
    assert.equal(checkSecurity(cfg(denyOnly), 'play', '::1').ok, true);
    assert.equal(checkSecurity(cfg(denyOnly), 'publish', '2001:db8::7').ok, true);
  });
});

describe('refer', () => {
  test('page host is compared by suffix, scheme/port/path stripped', () => {
    assert.equal(pageHost('http://www.example.com:8080/a/b?x=1'), 'www.example.com');
    assert.equal(pageHost('www.example.com/x'), 'www.example.com');
    assert.equal(checkRefer([], 'anything'), true);
    assert.equal(checkRefer(['example.com'], 'https://live.example.com/page'), true);
    assert.equal(checkRefer(['example.com'], 'https://evil.org/example.com'), false);
    assert.equal(checkRefer(['example.com'], ''), false);
  });
});
