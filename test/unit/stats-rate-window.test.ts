import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RateWindow } from '../../src/ops/stats/rate-window.js';
import { parseSelfStat, parseProcStat, parseMeminfo, memInfoFrom, ProcSampler, SELF_STAT_FIELDS } from '../../src/ops/stats/proc-stats.js';
import { protocolOf, isPublishType } from '../../src/ops/stats/server-stats.js';

describe('RateWindow', () => {
  test('kbps over the window from cumulative samples', () => {
    const w = new RateWindow(30_000);
    assert.equal(w.kbps(), 0);
    w.sample(0, 0);
    assert.equal(w.kbps(), 0, 'one sample is no rate');
    // 500 kbit/s = 62,500 bytes/s, sampled every 2 s for 60 s.
    for (let t = 2000; t <= 60_000; t += 2000) w.sample(t, (t / 1000) * 62_500);
    assert.equal(w.kbps(), 500);
    assert.ok(w.samples <= 17, `window keeps what it needs, has ${w.samples}`);
  });

  test('the window follows a rate change within 30 s', () => {
    const w = new RateWindow(30_000);
    let bytes = 0;
    for (let t = 0; t <= 60_000; t += 2000) {
      w.sample(t, bytes);
      bytes += 2 * 125_000; // 1000 kbit/s
    }
    assert.equal(w.kbps(), 1000);
    for (let t = 62_000; t <= 100_000; t += 2000) {
      w.sample(t, bytes);
      bytes += 2 * 12_500; // 100 kbit/s
    }
    assert.equal(w.kbps(), 100);
  });

  test('a young window reports over what it has seen', () => {
    const w = new RateWindow(30_000);
    w.sample(0, 0);
    w.sample(4000, 50_000);
    assert.equal(w.kbps(), 100);
  });
});

describe('/proc parsers', () => {
  test('self stat with a comm holding spaces and parentheses', () => {
    const text = '1234 (my (odd) proc) S 1 1234 1234 0 -1 4194304 500 0 0 0 150 30 0 0 20 0 11 0 9999 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n';
    const s = parseSelfStat(text)!;
    assert.equal(s.pid, 1234);
    assert.equal(s.comm, 'my (odd) proc');
    assert.equal(s.state, 'S');
    assert.equal(s.ppid, 1);
    assert.equal(s.utime, 150);
    assert.equal(s.stime, 30);
    assert.equal(s.num_threads, 11);
    assert.equal(s.rss, 2048);
    assert.equal(parseSelfStat('garbage'), null);
  });

  test('/proc/stat cpu line and meminfo', () => {
    const cpu = parseProcStat('cpu  100 5 50 800 10 1 2 3 0 0\ncpu0 1 2 3 4\n')!;
    assert.deepEqual(cpu, { user: 100, nice: 5, sys: 50, idle: 800, iowait: 10, irq: 1, softirq: 2, steal: 3, guest: 0 });
    assert.equal(parseProcStat('nothing'), null);
    const m = memInfoFrom(parseMeminfo('MemTotal:  1000 kB\nMemFree: 200 kB\nBuffers: 50 kB\nCached: 150 kB\nSwapTotal: 100 kB\nSwapFree: 25 kB\n'));
    assert.equal(m.MemActive, 800);
    assert.equal(m.RealInUse, 600);
    assert.equal(m.NotInUse, 400);
    assert.equal(m.percent_ram, 0.6);
    assert.equal(m.percent_swap, 0.75);
  });

  test('sampler: process CPU agrees with the CPU the process really used; system ratio in 0..1', () => {
    const files: Record<string, string> = {
      '/proc/self/stat': '1 (x) R 0 0 0 0 0 0 0 0 0 0 1 1 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0',
      '/proc/stat': 'cpu  100 0 100 800 0 0 0 0 0\n',
      '/proc/meminfo': 'MemTotal: 1000 kB\nMemFree: 500 kB\n',
    };
    const cpuMs = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1000;
    // Our own clocks around (outer) and inside (inner) the sampler's window bound
    // what it may report, however much CPU a busy machine gives this process.
    const outerCpu0 = process.cpuUsage();
    const outerWall0 = performance.now();
    const p = new ProcSampler((f) => files[f] ?? null);
    const innerWall0 = performance.now();
    // A fixed amount of work in CPU time, not wall time: 100 ms of it, however long that takes.
    const loopCpu0 = process.cpuUsage();
    while (cpuMs(process.cpuUsage(loopCpu0)) < 100) Math.sqrt(Math.random());
    files['/proc/stat'] = 'cpu  150 0 150 900 0 0 0 0 0\n';
    const innerWall1 = performance.now();
    p.sample();
    const outerWall1 = performance.now();
    const outerCpu = cpuMs(process.cpuUsage(outerCpu0));
    // CPU spent outside the sampler's window but inside ours (the sampler's own reads, a GC)
    // and the kernel's accounting granularity: 10 ms of slack on 100 ms of work, so a wrong
    // unit or a wrong window still fails, and a busy machine does not.
    const SLACK_MS = 10;
    const lower = ((outerCpu - SLACK_MS) / (outerWall1 - outerWall0)) * 100;
    const upper = ((outerCpu + SLACK_MS) / (innerWall1 - innerWall0)) * 100;
    assert.ok(p.selfCpuPercent >= lower && p.selfCpuPercent <= upper, `sampler says ${p.selfCpuPercent.toFixed(1)} %, the process used ${lower.toFixed(1)}..${upper.toFixed(1)} %`);
    assert.ok(p.selfCpuPercent > 0, 'the busy loop shows as CPU');
    assert.equal(p.systemCpuRatio, 0.5);
    assert.equal(p.mem.MemTotal, 1000);
  });

  test('fuzz: parsers never throw on damaged or random text, and what they return is well-formed', () => {
    let seed = 7;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const randomText = (): string => Array.from({ length: Math.floor(rand() * 80) }, () => String.fromCharCode(32 + Math.floor(rand() * 95))).join('');
    // Real-looking inputs with a few characters replaced, so the parsers' success paths are fuzzed too.
    const damage = (text: string): string => {
      const c = [...text];
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) c[Math.floor(rand() * c.length)] = String.fromCharCode(32 + Math.floor(rand() * 95));
      return c.join('');
    };
    const SELF = '1234 (my (odd) proc) S 1 1234 1234 0 -1 4194304 500 0 0 0 150 30 0 0 20 0 11 0 9999 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';
    const STAT = 'cpu  100 5 50 800 10 1 2 3 0 0\ncpu0 1 2 3 4';
    const MEM = 'MemTotal:  1000 kB\nMemFree: 200 kB\nBuffers: 50 kB\nCached: 150 kB\nSwapTotal: 100 kB\nSwapFree: 25 kB';
    let selfParsed = 0;
    let statParsed = 0;
    for (let i = 0; i < 3000; i++) {
      const half = i % 2 === 0;
      const self = half ? damage(SELF) : randomText();
      const st = parseSelfStat(self);
      assert.equal(st === null, !(self.includes('(') && self.lastIndexOf(')') > self.indexOf('(')), `self stat ${JSON.stringify(self)}`);
      if (st) {
        selfParsed++;
        assert.equal(st.comm, self.slice(self.indexOf('(') + 1, self.lastIndexOf(')')));
        // Every field after the name is a number (never NaN, which the API would print as null), except the state letter.
        for (const name of SELF_STAT_FIELDS.slice(3)) assert.ok(typeof st[name] === 'number' && !Number.isNaN(st[name]), `${name} of ${JSON.stringify(self)} is ${st[name]}`);
      }
      const statText = half ? damage(STAT) : `cpu ${randomText()}`;
      const cpu = parseProcStat(statText);
      assert.equal(cpu === null, !statText.split('\n').some((l) => l.startsWith('cpu ')), `proc stat ${JSON.stringify(statText)}`);
      if (cpu) {
        statParsed++;
        for (const [k, v] of Object.entries(cpu)) assert.ok(!Number.isNaN(v), `${k} of ${JSON.stringify(statText)} is ${v}`);
      }
      const memText = half ? damage(MEM) : randomText();
      const mem = memInfoFrom(parseMeminfo(memText));
      assert.equal(mem.ok, mem.MemTotal > 0);
      for (const [k, v] of Object.entries(mem)) if (k !== 'ok') assert.ok(typeof v === 'number' && !Number.isNaN(v), `${k} of ${JSON.stringify(memText)} is ${v}`);
      if (Number.isFinite(mem.MemTotal)) assert.equal(mem.RealInUse + mem.NotInUse, mem.MemTotal, `memory adds up for ${JSON.stringify(memText)}`);
    }
    assert.ok(selfParsed > 1000 && statParsed > 1000, `success paths ran: self ${selfParsed}, stat ${statParsed}`);
  });
});

test('client types map to protocols', () => {
  assert.equal(protocolOf('rtmp-play'), 'rtmp');
  assert.equal(protocolOf('fmle-publish'), 'rtmp');
  assert.equal(protocolOf('flv-play'), 'http-flv');
  assert.equal(protocolOf('hls-play'), 'hls');
  assert.equal(protocolOf('rtc-publish'), 'webrtc');
  assert.equal(protocolOf('srt-play'), 'srt');
  assert.equal(isPublishType('rtc-publish'), true);
  assert.equal(isPublishType('flv-play'), false);
});
