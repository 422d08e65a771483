/**
 * What the API says about the server, from the real server: summaries as SRS
 * sends them (percentages are ratios, disk/network/socket counters come from
 * /proc), versions with the SRS API level and Sluice's own version beside it,
 * and features true only for what the server does (a DVR config asks in vain).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, BASIC_CONFIG, REPO_ROOT, type RunningServer } from '../helpers/server-process.js';
import { waitFor } from '../helpers/wait.js';

interface Summaries {
  code: number;
  data: { ok: boolean; self: Record<string, number | string>; system: Record<string, number>; sluice: Record<string, number | string> };
}

let server: RunningServer;
before(async () => {
  // transcode.example's engine would start only when its stream is published, which never happens here.
  server = await startServer({
    config: `${BASIC_CONFIG}vhost dvr.example { dvr { enabled on; dvr_path ./dvr/[app]/[stream].flv; } }
vhost transcode.example { transcode live/never { enabled on; ffmpeg ffmpeg; engine e { enabled on; vcodec copy; acodec copy; output rtmp://127.0.0.1:[port]/[app]/[stream]_[engine]; } } }\n`,
  });
});
after(async () => server?.stop());

const summaries = async (): Promise<Summaries> => (await (await fetch(server.apiUrl('api/v1/summaries'))).json()) as Summaries;

test('summaries: ratios in [0, 1], counters from /proc', async () => {
  // A TCP connection held open, so the machine has at least one established socket.
  const held = net.connect(server.rtmpPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => held.once('connect', resolve).once('error', reject));
  try {
    // Disk rates need two samples of the stats timer: wait until it has sampled since the start.
    const first = (await summaries()).data.system.srs_sample_time!;
    assert.ok(await waitFor(async () => (await summaries()).data.system.srs_sample_time! > first, 10_000, 200), 'the stats timer samples');
    const { data } = await summaries();
    const { self, system } = data;
    const ratio = (v: unknown, name: string, max = 1): void => {
      assert.equal(typeof v, 'number', name);
      assert.ok((v as number) >= 0 && (v as number) <= max, `${name} = ${String(v)}`);
    };
    ratio(self.cpu_percent, 'self.cpu_percent', os.cpus().length);
    ratio(self.mem_percent, 'self.mem_percent');
    // A ratio with two decimals: a 100 MB process on a 16 GB machine shows 0.01 or 0.00, as in SRS.
    ratio(system.cpu_percent, 'system.cpu_percent');
    ratio(system.mem_ram_percent, 'system.mem_ram_percent');
    assert.ok(system.mem_ram_percent! > 0);
    ratio(system.mem_swap_percent, 'system.mem_swap_percent');
    ratio(system.disk_busy_percent, 'system.disk_busy_percent');
    for (const k of ['disk_read_KBps', 'disk_write_KBps']) assert.ok(Number.isInteger(system[k]) && system[k]! >= 0, `${k} = ${system[k]}`);
    // Loopback carries this very request: some interface has counted bytes.
    assert.ok(system.net_recv_bytes! + system.net_recvi_bytes! > 0, JSON.stringify(system));
    assert.ok(system.net_send_bytes! + system.net_sendi_bytes! > 0);
    assert.ok(system.net_sample_time! > 0);
    assert.ok(system.conn_sys! >= 1, `conn_sys ${system.conn_sys}`);
    assert.ok(system.conn_sys_et! >= 1, `conn_sys_et ${system.conn_sys_et}`);
    assert.ok(system.conn_sys_tw! >= 0 && system.conn_sys_udp! >= 0);
    assert.ok(system.conn_sys! >= system.conn_sys_tw!);
    assert.ok(system.uptime! > 0 && system.ilde_time! >= 0);
    assert.equal(self.version, '7.0.18');
  } finally {
    held.destroy();
  }
});

test('versions: the SRS API level in major/minor/revision/version, Sluice in `sluice`', async () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = (await (await fetch(server.apiUrl('api/v1/versions'))).json()) as { code: number; data: Record<string, unknown> };
  assert.equal(v.code, 0);
  assert.deepEqual(v.data, { major: 7, minor: 0, revision: 18, version: '7.0.18', sluice: pkg.version });
  // Also on the HTTP port (cluster health checks).
  const onHttp = (await (await fetch(server.httpUrl('api/v1/versions'))).json()) as { data: { major: number } };
  assert.equal(onHttp.data.major, 7);
});

test('features: true only for what this server does with this config', async () => {
  const f = (await (await fetch(server.apiUrl('api/v1/features'))).json()) as { code: number; data: { features: Record<string, boolean> } };
  assert.equal(f.code, 0);
  assert.deepEqual(f.data.features, {
    ssl: true,
    hls: false, // no vhost has hls on
    hds: false,
    callback: false,
    api: true,
    httpd: true,
    dvr: true, // dvr.example has dvr on
    transcode: true, // transcode.example has an enabled engine
    ingest: false, // no ingest block
    stat: true,
    caster: false,
    complex_send: true,
    tcp_nodelay: false,
    so_sendbuf: false,
    mr: false,
  });
});
