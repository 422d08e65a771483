/**
 * A stream's life seen from outside: players waiting before the publisher,
 * EOF after the publisher leaves, garbage on the wire, signals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { startServer, CLI, REPO_ROOT } from '../helpers/server-process.js';
import { publish, decodeFrames, run } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';

test('a player that connects before the publisher gets the stream, and EOF after the publisher leaves', async () => {
  const server = await startServer();
  try {
    const player = run('ffmpeg', ['-hide_banner', '-nostdin', '-i', server.httpUrl('live/early.flv'), '-f', 'null', '-'], 60_000);
    // The player is waiting on the server (the API lists it) before the publisher comes.
    const waiting = await waitFor(async () => {
      const { clients } = (await (await fetch(server.apiUrl('/api/v1/clients/'))).json()) as { clients: { type: string; url: string }[] };
      return clients.some((c) => c.type === 'flv-play' && c.url === '/live/early');
    }, 15_000, 100);
    assert.ok(waiting, 'the HTTP-FLV player is listed before the publisher starts');
    const pub = publish(server.rtmpUrl('live/early'), { seconds: 4 });
    assert.equal(await pub.done, 0, pub.stderr());
    const started = Date.now();
    const code = await player.done;
    const waited = Date.now() - started;
    assert.equal(code, 0, player.stderr().slice(-800));
    const frames = [...player.stderr().matchAll(/frame=\s*(\d+)/g)].pop();
    assert.ok(Number(frames?.[1] ?? 0) >= 60, `player decoded ${frames?.[1]} frames`);
    assert.ok(waited < 15_000, `EOF came ${waited} ms after the publisher left`);
  } finally {
    await server.stop();
  }
});

test('garbage, a truncated handshake and an absurd chunk size end only their own connection', async () => {
  const server = await startServer();
  const pub = publish(server.rtmpUrl('live/steady'), { seconds: 30 });
  try {
    await server.waitForLog((l) => l.msg === 'publish started', 15_000);
    const hostile: Buffer[] = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.alloc(3000, 0xff),
      Buffer.concat([Buffer.from([3]), Buffer.alloc(700, 1)]),
    ];
    for (const bytes of hostile) {
      await new Promise<void>((resolve) => {
        const s = net.connect(server.rtmpPort, '127.0.0.1', () => s.write(bytes));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 3000);
      });
    }
    await server.waitForLog((l) => /protocol error/.test(l.msg));
    const r = await decodeFrames(server.rtmpUrl('live/steady'), 2);
    assert.ok(r.frames >= 40, `the publisher's stream still plays: ${r.frames} frames`);
    assert.equal(server.proc.exitCode, null, 'server still running');
  } finally {
    await pub.stop();
    await server.stop();
  }
});

test('-t checks a config: ok, and file:line: reason on an error', () => {
  const root = REPO_ROOT;
  const good = spawnSync(process.execPath, [CLI, '-t', '-c', 'conf/default.conf'], { cwd: root, encoding: 'utf8' });
  assert.equal(good.status, 0, good.stderr);
  const bad = spawnSync(process.execPath, [CLI, '-t', '-c', 'test/fixtures/bad.conf'], { cwd: root, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /bad\.conf:3: /);
});

test('SIGHUP reloads vhost settings without dropping the publisher; SIGQUIT waits for it', async () => {
  const server = await startServer();
  const pub = publish(server.rtmpUrl('live/reload'), { seconds: 6 });
  try {
    await server.waitForLog((l) => l.msg === 'publish started', 15_000);
    const text = readFileSync(server.configFile, 'utf8').replace('gop_cache on', 'gop_cache off');
    writeFileSync(server.configFile, text);
    server.signal('SIGHUP');
    await server.waitForLog((l) => l.msg === 'config reloaded');
    const r = await decodeFrames(server.rtmpUrl('live/reload'), 1);
    assert.ok(r.frames > 0, 'still playing after reload');
    server.signal('SIGQUIT');
    await server.waitForLog((l) => l.msg === 'graceful stop');
    assert.equal(server.proc.exitCode, null, 'graceful stop waits while the publisher is live');
    const code = await server.exited;
    assert.equal(code, 0);
    assert.equal(await pub.done, 0, 'the publisher finished its stream');
  } finally {
    await pub.stop();
    await server.stop();
  }
});

test('SIGTERM stops fast, cutting the publisher with a log line', async () => {
  const server = await startServer();
  const pub = publish(server.rtmpUrl('live/term'), { seconds: 30 });
  try {
    await server.waitForLog((l) => l.msg === 'publish started', 15_000);
    const t0 = Date.now();
    server.signal('SIGTERM');
    const code = await server.exited;
    assert.equal(code, 0);
    // The publisher would go on for 30 s: a fast stop ends well before it, however busy the machine (a stop that waited for it fails).
    assert.ok(Date.now() - t0 < 20_000, `fast stop took ${Date.now() - t0} ms`);
    assert.ok(server.logs.some((l) => l.msg === 'RTMP session closing' && l.reason === 'server stopping'));
  } finally {
    await pub.stop();
    await server.stop();
  }
});
