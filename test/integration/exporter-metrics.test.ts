/**
 * The Prometheus exporter on its own port, with a live publisher, an
 * HTTP-FLV player and an on_play callback: the output parses as Prometheus
 * text and carries SRS's metric names and Sluice's operator counters.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { publish, run, sleep, type Proc } from '../helpers/ffmpeg.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
interface Family {
  help?: string;
  type?: string;
  samples: Sample[];
}

/** Reads until `ok` holds or the time is up (then returns the last value, for the assertion to show). */
async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < deadline) {
    await sleep(200);
    v = await read();
  }
  return v;
}

/** A strict reader of the Prometheus text format (version 0.0.4): throws on any malformed line. */
function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const fam = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { samples: [] }));
    return f;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      if (m[1] === 'HELP') fam(m[2]!).help = m[3];
      else {
        assert.match(m[3]!, /^(counter|gauge|histogram|summary|untyped)$/, line);
        fam(m[2]!).type = m[3];
      }
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.eE+-]+|[Nn][Aa][Nn]|\+Inf|-Inf)( \d+)?$/.exec(line);
    assert.ok(m, `not a Prometheus line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) {
      for (const part of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[part[1]!] = part[2]!;
    }
    const name = m[1]!;
    const base = families.has(name) ? name : name.replace(/_(bucket|sum|count|total)$/, '');
    fam(families.has(base) ? base : name).samples.push({ name, labels, value: Number(m[4]) });
  }
  return families;
}

let server: RunningServer;
let serverStartedAt = 0;
let exporterPort: number;
let hookServer: http.Server;
let pub: Proc;
let player: Proc;

before(async () => {
  hookServer = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => setTimeout(() => res.end('0'), 30));
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/`;
  serverStartedAt = Date.now();
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
http_server { enabled on; listen {{HTTP}}; }
exporter { enabled on; listen {{EXPORTER}}; label cn-beijing; tag cn-edge; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  http_hooks { enabled on; on_play ${hook}; }
}
`,
  });
  exporterPort = server.port('EXPORTER');
  pub = publish(server.rtmpUrl('live/metrics'), { seconds: 30 });
  await server.waitForLog((l) => l.msg === 'publish started', 15_000);
  player = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', server.httpUrl('live/metrics.flv'), '-t', '25', '-f', 'null', '-'], 40_000);
  await server.waitForLog((l) => l.msg === 'HTTP-FLV play started', 10_000);
  // The stats are sampled on a timer: wait until they have seen the traffic, however slow the machine.
  await until(async () => {
    const f = parsePrometheus(await (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text());
    const sample = (name: string): number => f.get(name)?.samples.find((x) => x.labels.stream === undefined || x.labels.stream === 'metrics')?.value ?? 0;
    return sample('srs_receive_bytes_total') > 100_000 && sample('srs_send_bytes_total') > 100_000 && sample('sluice_stream_receive_kbps') > 50;
  }, (seen) => seen, 30_000);
});

after(async () => {
  await Promise.all([pub?.stop(), player?.stop()]);
  await server?.stop();
  hookServer?.closeAllConnections();
  hookServer?.close();
});

test('exporter output parses as Prometheus text with SRS names and true values', async () => {
  const res = await fetch(`http://127.0.0.1:${exporterPort}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const families = parsePrometheus(await res.text());
  const one = (name: string, labels: Record<string, string> = {}): number => {
    const all = [...families.values()].flatMap((f) => f.samples).filter((x) => x.name === name);
    assert.ok(all.length > 0, `metric ${name} present`);
    const s = all.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    assert.ok(s, `${name} ${JSON.stringify(labels)} has a sample`);
    return s.value;
  };
  for (const name of ['srs_node_uname_info', 'srs_build_info', 'srs_cpu_percent', 'srs_memory', 'srs_send_bytes_total', 'srs_receive_bytes_total', 'srs_streams', 'srs_clients', 'srs_clients_total', 'srs_clients_errs_total']) {
    const f = families.get(name);
    assert.ok(f?.help && f.type, `${name} has HELP and TYPE`);
  }
  assert.equal(families.get('srs_send_bytes_total')!.type, 'counter');
  assert.equal(families.get('srs_streams')!.type, 'gauge');
  const build = families.get('srs_build_info')!.samples[0]!;
  assert.equal(build.labels.label, 'cn-beijing');
  assert.equal(build.labels.tag, 'cn-edge');
  assert.equal(build.labels.pid, String(server.proc.pid));
  assert.equal(one('srs_streams'), 1);
  assert.equal(one('srs_clients'), 2);
  assert.ok(one('srs_clients_total') >= 2);
  assert.ok(one('srs_receive_bytes_total') > 100_000);
  assert.ok(one('srs_send_bytes_total') > 100_000);
  assert.ok(one('srs_memory') > 10_000, 'kB of RSS');
  assert.equal(one('sluice_clients', { protocol: 'rtmp', role: 'publish' }), 1);
  assert.equal(one('sluice_clients', { protocol: 'http-flv', role: 'play' }), 1);
  assert.ok(one('sluice_stream_receive_kbps', { app: 'live', stream: 'metrics' }) > 50);
  assert.ok(families.has('sluice_frames_dropped_total'));
  assert.equal(one('sluice_hook_duration_seconds_count', { action: 'on_play', result: 'allow' }), 1);
  assert.ok(one('sluice_hook_duration_seconds_sum', { action: 'on_play' }) >= 0.02, 'the callback took its 30 ms');
  // Seconds since the previous scrape, not ms or ns: never above the few seconds this server has run.
  const lag = { mean: one('sluice_event_loop_lag_seconds', { stat: 'mean' }), p99: one('sluice_event_loop_lag_seconds', { stat: 'p99' }), max: one('sluice_event_loop_lag_seconds', { stat: 'max' }) };
  assert.ok(lag.mean >= 0 && lag.mean <= lag.max && lag.p99 >= 0 && lag.p99 <= lag.max, `lag ${JSON.stringify(lag)}`);
  assert.ok(lag.max < (Date.now() - serverStartedAt) / 1000, `lag ${JSON.stringify(lag)} is longer than the server has run`);
  assert.ok(families.has('process_cpu_user_seconds_total'), 'Node process metrics too');
});

test('a stalled event loop shows in sluice_event_loop_lag_seconds', async () => {
  const lagMax = async (): Promise<number> => {
    const f = parsePrometheus(await (await fetch(`http://127.0.0.1:${exporterPort}/metrics`)).text());
    return f.get('sluice_event_loop_lag_seconds')!.samples.find((x) => x.labels.stat === 'max')!.value;
  };
  await lagMax(); // a scrape starts a new measuring window
  // A stopped process cannot run its event loop: a stall of at least 500 ms, on any machine.
  server.signal('SIGSTOP');
  await sleep(500);
  server.signal('SIGCONT');
  // The late timer is recorded when the loop next runs its timers, which may come after the
  // first scrape is answered (that scrape then still shows the old window): the stall shows in
  // one of the next windows, and no window is lost between scrapes.
  const seen: number[] = [];
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    seen.push(await lagMax());
    if (seen.at(-1)! >= 0.4) break;
  }
  assert.ok(seen.some((m) => m >= 0.4), `a 500 ms stall shows as ${JSON.stringify(seen.slice(0, 10))} s of lag`);
});

test('counters only grow between scrapes; /metrics is on the API port too; the exporter port answers the API', async () => {
  const scrape = async (url: string): Promise<Map<string, Family>> => parsePrometheus(await (await fetch(url)).text());
  const v = (f: Map<string, Family>, n: string): number => f.get(n)!.samples[0]!.value;
  const a = await scrape(`http://127.0.0.1:${exporterPort}/metrics`);
  // The next stats sample comes on the server's timer: wait for it rather than guess its period.
  const b = await until(() => scrape(server.apiUrl('metrics')), (f) => v(f, 'srs_send_bytes_total') > v(a, 'srs_send_bytes_total') && v(f, 'srs_receive_bytes_total') > v(a, 'srs_receive_bytes_total'), 15_000);
  assert.ok(v(b, 'srs_receive_bytes_total') > v(a, 'srs_receive_bytes_total'));
  assert.ok(v(b, 'srs_send_bytes_total') > v(a, 'srs_send_bytes_total'));
  const versions = (await (await fetch(`http://127.0.0.1:${exporterPort}/api/v1/versions`)).json()) as { code: number };
  assert.equal(versions.code, 0);
});

test('with the exporter off, /metrics answers code 1090', async () => {
  const off = await startServer({ config: 'listen {{RTMP}};\nsrs_log_tank console;\nhttp_api { enabled on; listen {{API}}; }\nvhost __defaultVhost__ {}\n' });
  try {
    const body = (await (await fetch(off.apiUrl('metrics'))).json()) as { code: number };
    assert.deepEqual(body, { code: 1090 });
  } finally {
    await off.stop();
  }
});
