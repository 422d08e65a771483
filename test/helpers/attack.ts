/**
 * Attack replay (a script, not a test): node dist/test/helpers/attack.js
 * Starts its own server on loopback (API auth with a full and a read-only
 * token, a pid file, max_connections 200, WebRTC on, HLS on a 2 MB tmpfs
 * when run as root), keeps an ffmpeg publisher and an RTMP player going,
 * and replays issue 11's attacks one after another, each bounded in count and time. Prints one line per item
 * (what was sent, what the server did, PASS/FAIL/SKIP), the server's RSS
 * before and after, and whether the player kept receiving media. Exits 1
 * when any item fails. The request shapes are those of the integration
 * tests (rtmp-input-bounds, rtmp-slow-loris, rtc-offer-limits, ...).
 */
import net from 'node:net';
import http from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync, mkdirSync, writeFileSync, existsSync, rmSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ndc from 'node-datachannel';
import { startServer, CLI } from './server-process.js';
import { fillDisk, mountTmpfs } from './tmpfs.js';
import { publish, probe } from './ffmpeg.js';
import { acceptsTcp } from './ports.js';
import { waitFor } from './wait.js';
import { localOffer } from './rtc-ndc-client.js';
import { RtmpClient } from '../../src/clients/rtmp-client.js';

const MAX_CONNECTIONS = 200;
const RO = { Authorization: 'Bearer ro-tok' };
const FULL = { Authorization: 'Bearer full-tok' };

// Item 8 needs a disk that really fills: a 2 MB tmpfs as hls_path (root only), as in hls-full-disk.test.ts.
const disk = mountTmpfs(2, 'sluice-attack-disk-');
const mnt = disk.dir;
const mounted = disk.skip === null;
const mountError = disk.skip ?? '';
const cleanupMount = disk.cleanup;

const config = `listen {{RTMP}};
max_connections ${MAX_CONNECTIONS};
pid ./objs/srs.pid;
srs_log_tank console;
http_api { enabled on; listen {{API}}; raw_api { enabled on; allow_reload on; } auth { enabled on; username admin; password s3cret; token full-tok; readonly_token ro-tok; } }
http_server { enabled on; listen {{HTTP}}; dir ./html; }
rtc_server { enabled on; listen {{RTC}}; candidate 127.0.0.1; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  play { gop_cache on; }
  ${mounted ? `hls { enabled on; hls_fragment 1; hls_window 3; hls_path ${mnt}; hls_dispose 0; hls_ctx off; }` : ''}
  rtc { enabled on; rtc_to_rtmp off; rtmp_to_rtc off; }
}
`;

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

type Verdict = 'PASS' | 'FAIL' | 'SKIP';
const results: { item: string; verdict: Verdict }[] = [];
function report(item: string, sent: string, did: string, verdict: Verdict): void {
  results.push({ item, verdict });
  console.log(`[${item}] ${verdict} — sent: ${sent} — server: ${did}`);
}

/** Runs one item; an exception is that item's FAIL, not the script's end. */
async function item(name: string, sent: string, run: () => Promise<{ did: string; ok: boolean | 'skip' }>): Promise<void> {
  try {
    const r = await run();
    report(name, sent, r.did, r.ok === 'skip' ? 'SKIP' : r.ok ? 'PASS' : 'FAIL');
  } catch (err) {
    report(name, sent, `error in the replay: ${(err as Error).message}`, 'FAIL');
  }
}

/** Raw HTTP on a connection of its own; resolves with the status, or 'closed' when the server ended the connection without one. */
function rawHttp(port: number, request: Buffer, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve(`no answer in ${timeoutMs} ms`);
    }, timeoutMs);
    s.on('connect', () => s.write(request, () => undefined));
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      resolve(m ? `HTTP ${m[1]}, then closed` : 'closed without an answer');
    });
  });
}

/** Garbage to a TCP port; resolves with how the connection ended. */
function garbage(port: number, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const t = setTimeout(() => {
      s.destroy();
      resolve('still open after 15 s');
    }, 15_000);
    s.on('connect', () => {
      const b = Buffer.alloc(bytes);
      for (let i = 0; i < bytes; i++) b[i] = (i * 131 + 7) & 0xff;
      s.write(b, () => undefined);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(t);
      resolve('closed');
    });
  });
}

/** A GET on a connection of its own (no keep-alive socket left counting in max_connections). */
function apiGet(url: string, headers: Record<string, string> = RO): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

const startedAt = Date.now();
const server = await startServer({ config });
const startMs = Date.now() - startedAt;
const pid = server.proc.pid!;
const api = (p: string): string => server.apiUrl(p);
let stopping = false;
void server.exited.then((code) => {
  if (stopping) return;
  console.error(`SERVER EXITED with ${String(code)}; last log lines:`);
  for (const l of server.logs.slice(-20)) console.error(JSON.stringify(l).slice(0, 500));
  process.exit(1);
});
const alive = (): boolean => server.proc.exitCode === null && server.proc.signalCode === null;

// The healthy pair: ffmpeg publishes, an RTMP player counts the media it gets.
const publisher = publish(server.rtmpUrl('live/healthy'), { seconds: 600, size: '160x120', fps: 25, gop: 25 });
let mediaMessages = 0;
let lastMediaAt = 0;
let worstGapMs = 0;
let player: RtmpClient | null = null;
let gapSampler: NodeJS.Timeout | null = null;
const rssBefore = { value: 0 };
try {
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
  player = await RtmpClient.connect({
    host: '127.0.0.1',
    port: server.rtmpPort,
    app: 'live',
    onEvent: (e) => {
      if (e.type !== 'media') return;
      mediaMessages++;
      lastMediaAt = Date.now();
    },
  });
  await player.play('healthy');
  if (!(await waitFor(() => mediaMessages > 0, 10_000, 50))) throw new Error('the healthy player got no media');
  gapSampler = setInterval(() => (worstGapMs = Math.max(worstGapMs, Date.now() - lastMediaAt)), 100);
  rssBefore.value = rssMb(pid);
  console.log(`server pid ${pid} listening after ${(startMs / 1000).toFixed(1)} s; RSS before the attacks ${rssBefore.value.toFixed(0)} MB; healthy player receiving`);

  await item('1 SIGUSR1', 'kill -USR1 <pid>, then a connect to 127.0.0.1:9229', async () => {
    const busyBefore = await acceptsTcp(9229);
    server.signal('SIGUSR1');
    const reopened = await server.waitForLog((l) => l.msg === 'log file reopened (SIGUSR1)', 10_000).then(() => true, () => false);
    const open = await acceptsTcp(9229);
    const did = `log reopened: ${reopened ? 'yes' : 'no'}; 9229 ${busyBefore ? 'was already taken before the signal (not ours)' : open ? 'OPEN' : 'closed'}; server alive: ${alive()}`;
    return { did, ok: reopened && alive() && (busyBefore || !open) };
  });

  await item('2 huge AMF', '10 RTMP connects with a 15 MB tcUrl', async () => {
    const base = rssMb(pid);
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
    const tcUrl = `rtmp://127.0.0.1:${server.rtmpPort}/live?${'a'.repeat(15 * 1024 * 1024)}`;
    const refusalsBefore = server.logs.filter((l) => l.msg === 'RTMP protocol error, closing connection').length;
    const r = await Promise.allSettled(Array.from({ length: 10 }, () => RtmpClient.connect({ host: '127.0.0.1', port: server.rtmpPort, app: 'live', tcUrl, timeoutMs: 30_000 })));
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(pid));
    for (const x of r) if (x.status === 'fulfilled') await x.value.close();
    const refused = r.filter((x) => x.status === 'rejected').length;
    const refusals = (): number => server.logs.filter((l) => l.msg === 'RTMP protocol error, closing connection').length - refusalsBefore;
    await waitFor(() => refusals() >= 10, 10_000, 50);
    const longest = Math.max(...server.logs.map((l) => JSON.stringify(l).length));
    const did = `${refused}/10 connections ended without a connect result, ${refusals()} refusal log lines, longest log line ${longest} B, RSS ${base.toFixed(0)} → peak ${peak.toFixed(0)} MB`;
    return { did, ok: refused === 10 && refusals() === 10 && longest < 2000 && peak - base < 100 };
  });

  await item('3 read-only token', 'Bearer ro-tok on GET /api/v1/raw?rpc=reload, DELETE /api/v1/clients/x, POST /api/v1/dvrs', async () => {
    const reloadsBefore = server.logs.filter((l) => l.msg === 'config reloaded').length;
    const reload = await fetch(api('api/v1/raw?rpc=reload'), { headers: RO });
    const kick = await fetch(api('api/v1/clients/x'), { method: 'DELETE', headers: RO });
    const dvr = await fetch(api('api/v1/dvrs'), { method: 'POST', headers: { ...RO, 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'start', stream: 'live/healthy' }) });
    await reload.text();
    await kick.text();
    await dvr.text();
    const read = await apiGet(api('api/v1/versions'));
    const reloads = server.logs.filter((l) => l.msg === 'config reloaded').length - reloadsBefore;
    // The full token's reload is then the first one: the refused ones did nothing.
    const full = await apiGet(api('api/v1/raw?rpc=reload'), FULL);
    const fullReloaded = await server.waitForLog(() => server.logs.filter((l) => l.msg === 'config reloaded').length > reloadsBefore, 10_000).then(() => true, () => false);
    const did = `reload ${reload.status}, kick ${kick.status}, dvr ${dvr.status}, reloads done ${reloads}; a read with the same token ${read.status}; the full token's reload ${full.text} (reloaded: ${fullReloaded})`;
    return { did, ok: reload.status === 403 && kick.status === 403 && dvr.status === 403 && reloads === 0 && read.status === 200 && fullReloaded };
  });

  await item('4 slow-loris', `120 RTMP peers sending C0 then one byte every 2 s (pre-auth budget ${MAX_CONNECTIONS / 2})`, async () => {
    const peers = Array.from({ length: 120 }, () => {
      const socket = net.connect(server.rtmpPort, '127.0.0.1');
      const started = Date.now();
      let timer: NodeJS.Timeout | null = null;
      socket.on('connect', () => {
        socket.write(Buffer.from([0x03]));
        timer = setInterval(() => socket.write(Buffer.from([0])), 2000);
      });
      socket.on('error', () => undefined);
      const closed = new Promise<number>((resolve) =>
        socket.once('close', () => {
          if (timer) clearInterval(timer);
          resolve(Date.now() - started);
        }),
      );
      // Bounded whatever the server does: gone after 40 s.
      const guard = setTimeout(() => socket.destroy(), 40_000);
      void closed.then(() => clearTimeout(guard));
      return { closed };
    });
    await waitFor(() => server.logs.filter((l) => l.msg.startsWith('connection refused: unauthenticated')).length >= 20, 15_000, 50);
    // Meanwhile: the API, and a new (HTTP-FLV) player.
    const summaries = await apiGet(api('api/v1/summaries'));
    const flv = await probe(server.httpUrl('live/healthy.flv'), 2).then((p) => p.streams.some((s) => s.codec_type === 'video'), () => false);
    const lifetimes = await Promise.all(peers.map((p) => p.closed));
    const held = lifetimes.filter((ms) => ms >= 5000);
    const cutByDeadline = held.filter((ms) => ms >= 9000 && ms < 30_000).length;
    const refusedAtOnce = lifetimes.length - held.length;
    const did = `${refusedAtOnce} refused at once, ${held.length} held and cut after ${held.length ? `${(Math.min(...held) / 1000).toFixed(1)}–${(Math.max(...held) / 1000).toFixed(1)}` : '-'} s; meanwhile API ${summaries.status}, new HTTP-FLV player got video: ${flv}`;
    return { did, ok: held.length <= MAX_CONNECTIONS / 2 && cutByDeadline === held.length && summaries.status === 200 && flv };
  });

  // Item 6 before 5: the WHEP flood spends this address's offer budget.
  await item('6 WHIP body', '1 MB body POSTed to /rtc/v1/whip/', async () => {
    const status = await new Promise<string>((resolve) => {
      const body = Buffer.alloc(1024 * 1024, 'v');
      const req = http.request(api('rtc/v1/whip/?app=live&stream=big'), { method: 'POST', agent: false, headers: { 'Content-Type': 'application/sdp', 'Content-Length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      });
      req.on('error', (e) => resolve(`reset (${e.message})`));
      req.end(body);
    });
    const line = await server.waitForLog((l) => l.msg === 'WHIP/WHEP publish refused' && l['code'] === 413, 5000).catch(() => null);
    return { did: `answered ${status}; refusal logged with ip ${JSON.stringify(line?.['ip'] ?? null)}`, ok: status === '413' && line?.['ip'] === '127.0.0.1' };
  });

  await item('5 WHEP flood', '60 WHEP offers at once from 127.0.0.1', async () => {
    const pc = new ndc.PeerConnection('offer', { iceServers: [] });
    const v = new ndc.Video('0', 'RecvOnly');
    v.addH264Codec(102, 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f');
    pc.addTrack(v);
    const offer = await localOffer(pc);
    pc.close();
    const connBefore = (JSON.parse((await apiGet(api('api/v1/summaries'))).text) as { data: { system: { conn_srs: number } } }).data.system.conn_srs;
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const r = await fetch(api('rtc/v1/whep/?app=live&stream=flood'), { method: 'POST', body: offer });
        await r.text();
        return r.status;
      }),
    );
    const count = (s: number): number => statuses.filter((x) => x === s).length;
    const connAfter = (JSON.parse((await apiGet(api('api/v1/summaries'))).text) as { data: { system: { conn_srs: number } } }).data.system.conn_srs;
    const did = `${count(201)}× 201, ${count(429)}× 429, other ${statuses.length - count(201) - count(429)}; conn_srs ${connBefore} → ${connAfter} (sessions count in max_connections)`;
    return { did, ok: count(429) > 0 && count(201) > 0 && count(201) <= 25 && connAfter - connBefore >= count(201) - 2 };
  });

  await item('7 CORS preflight', 'OPTIONS with Origin and Access-Control-Request-Private-Network: true', async () => {
    const r = await fetch(api('rtc/v1/whep/'), { method: 'OPTIONS', headers: { Origin: 'http://example.test', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Private-Network': 'true' } });
    await r.text();
    const h = r.headers.get('access-control-allow-private-network');
    return { did: `${r.status}, Access-Control-Allow-Private-Network: ${String(h)}`, ok: h === 'true' };
  });

  await item('8 full disk', 'hls_path on a 2 MB tmpfs filled to ENOSPC for 4 s while live/healthy publishes, then freed', async () => {
    if (!mounted) return { did: mountError, ok: 'skip' };
    const dir = join(mnt, 'live');
    const m3u8 = join(dir, 'healthy.m3u8');
    const listed = (text: string): string[] => text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\?.*/, ''));
    const onDisk = (): string[] => (existsSync(m3u8) ? listed(readFileSync(m3u8, 'utf8')) : []);
    if (!(await waitFor(() => onDisk().length >= 2, 20_000, 100))) return { did: 'no HLS segments before the disk filled', ok: false };
    const isWarn = (l: { level: number; msg: string }): boolean => l.level === 40 && /HLS segment write failed/.test(l.msg);
    const filler = join(mnt, 'filler');
    fillDisk(filler);
    const warned = await server.waitForLog(isWarn, 15_000).then(() => true, () => false);
    // While full: every entry of the playlist (on disk and served) is a complete file.
    let bad = '';
    const until = Date.now() + 4000;
    while (Date.now() < until && !bad) {
      for (const u of onDisk()) if (!existsSync(join(dir, u)) || statSync(join(dir, u)).size === 0) bad = `disk playlist lists ${u}`;
      const r = await fetch(server.httpUrl('live/healthy.m3u8'));
      const servedList = r.ok ? listed(await r.text()) : [];
      for (const u of servedList) if (!existsSync(join(dir, u))) bad = `served playlist lists ${u}`;
      await new Promise((res) => setTimeout(res, 200));
    }
    const tmps = (): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tmp')) : []);
    await waitFor(() => tmps().length === 0, 5000, 100);
    const tmpLeft = tmps().length;
    const warnings = server.logs.filter(isWarn).length;
    rmSync(filler);
    const recovered = await server.waitForLog((l) => /HLS segment writes work again/.test(l.msg), 20_000).then(() => true, () => false);
    const did = `write failure warned: ${warned} (${warnings} warning line(s)); playlists listed only complete files: ${bad ? `NO (${bad})` : 'yes'}; .tmp left: ${tmpLeft}; recovered after freeing: ${recovered}`;
    return { did, ok: warned && !bad && tmpLeft === 0 && warnings === 1 && recovered };
  });

  await item('10 pid file', 'a second server with the same config (same pid file)', async () => {
    const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
      const p = spawn(process.execPath, [CLI, '-c', server.configFile], { cwd: server.dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      const t = setTimeout(() => p.kill('SIGKILL'), 30_000);
      p.once('exit', (code) => {
        clearTimeout(t);
        resolve({ code, text });
      });
    });
    const refused = /refusing to start: another server/.test(out.text);
    const pidKept = readFileSync(join(server.dir, 'objs', 'srs.pid'), 'utf8').trim() === String(pid);
    return { did: `second server exited ${String(out.code)}, refusal message: ${refused}, pid file still ${pid}: ${pidKept}, first alive: ${alive()}`, ok: out.code === 1 && refused && pidKept && alive() };
  });

  await item('13 versions', 'GET /api/v1/versions', async () => {
    const r = await apiGet(api('api/v1/versions'));
    const d = (JSON.parse(r.text) as { data?: { major?: number; version?: string; sluice?: string } }).data;
    return { did: `major ${String(d?.major)}, version ${String(d?.version)}, sluice ${String(d?.sluice)}`, ok: (d?.major ?? 0) >= 6 };
  });

  await item('14 root index', 'GET / on the HTTP port with html/index.html present', async () => {
    const page = '<!doctype html><title>operator page</title>';
    mkdirSync(join(server.dir, 'html'), { recursive: true });
    writeFileSync(join(server.dir, 'html', 'index.html'), page);
    const r = await fetch(server.httpUrl(''), { redirect: 'manual' });
    const text = await r.text();
    return { did: `${r.status}, the operator's page: ${text === page}`, ok: r.status === 200 && text === page };
  });

  await item('15 start time', 'node dist/src/main/cli.js -c …', async () => ({ did: `listening ${(startMs / 1000).toFixed(1)} s after spawn (no compile at start)`, ok: startMs < 10_000 }));

  await item('garbage RTMP', '64 KiB of garbage to the RTMP port', async () => {
    const how = await garbage(server.rtmpPort, 64 * 1024);
    return { did: `connection ${how}; server alive: ${alive()}`, ok: how === 'closed' && alive() };
  });

  await item('garbage HTTP', '64 KiB of garbage to the HTTP port', async () => {
    const how = await rawHttp(server.httpPort, Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 131 + 7) & 0xff)));
    return { did: `${how}; server alive: ${alive()}`, ok: !how.startsWith('no answer') && alive() };
  });

  await item('1 MB header', 'GET / with a 1 MB X-Big header to the HTTP port', async () => {
    const how = await rawHttp(server.httpPort, Buffer.from(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(1024 * 1024)}\r\n\r\n`));
    const after = await fetch(server.httpUrl('console/'));
    await after.text();
    return { did: `${how}; then GET /console/ ${after.status}; server alive: ${alive()}`, ok: !how.startsWith('no answer') && !how.startsWith('HTTP 2') && after.status === 200 && alive() };
  });

  const received = mediaMessages;
  await waitFor(() => mediaMessages > received, 5000, 50);
  if (gapSampler) clearInterval(gapSampler);
  worstGapMs = Math.max(worstGapMs, Date.now() - lastMediaAt);
  const rssAfter = rssMb(pid);
  await item('healthy player', 'one RTMP player of live/healthy throughout', async () => ({
    did: `${mediaMessages} media messages, longest gap ${(worstGapMs / 1000).toFixed(1)} s, still receiving: ${mediaMessages > received}`,
    ok: mediaMessages > received && worstGapMs < 3000 && !player!.closed,
  }));
  const passed = results.filter((r) => r.verdict === 'PASS').length;
  const failed = results.filter((r) => r.verdict === 'FAIL');
  const skipped = results.filter((r) => r.verdict === 'SKIP').length;
  console.log(`server RSS ${rssBefore.value.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after; ${passed} PASS, ${failed.length} FAIL${failed.length ? ` (${failed.map((f) => f.item).join(', ')})` : ''}, ${skipped} SKIP; ${((Date.now() - startedAt) / 1000).toFixed(0)} s in all`);
  if (failed.length) process.exitCode = 1;
} catch (err) {
  console.error(`attack replay could not run: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  if (gapSampler) clearInterval(gapSampler);
  await player?.close().catch(() => undefined);
  await publisher.stop();
  stopping = true;
  await server.stop();
  cleanupMount();
}
process.exit();
