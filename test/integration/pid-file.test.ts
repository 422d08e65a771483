/**
 * SRS's `pid` file and kept `server_id`: a second server on the same pid file
 * refuses to start (the first goes on), a file left by a crashed run is taken
 * over, and the server id survives a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, CLI, BASIC_CONFIG, type RunningServer } from '../helpers/server-process.js';

async function serverIdOf(server: RunningServer): Promise<string> {
  const body = (await (await fetch(server.apiUrl('/api/v1/versions'))).json()) as { server?: unknown };
  assert.equal(typeof body.server, 'string', 'the API envelope has `server`');
  return body.server as string;
}

/** Runs the CLI to its exit; resolves with its code and output. */
function runCli(args: string[], cwd: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('pid file: written at start, a second server refused, removed on exit; a stale file taken over; server_id kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pid-'));
  const pidFile = join(dir, 'objs', 'srs.pid');
  const config = `pid ${pidFile};\n${BASIC_CONFIG}`;
  let first: RunningServer | null = null;
  let second: RunningServer | null = null;
  try {
    first = await startServer({ config });
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(first.proc.pid), 'the pid file holds the server pid');
    const id = await serverIdOf(first);
    assert.match(id, /^vid-[0-9a-z]{7}$/);
    assert.equal(readFileSync(join(dir, 'objs', 'srs.id'), 'utf8').trim(), id, 'the id is kept in srs.id next to srs.pid');

    // Same config, same pid file: refused before it binds anything, with a clear word.
    const refused = await runCli(['-c', first.configFile], first.dir);
    assert.equal(refused.code, 1, refused.out);
    assert.match(refused.out, new RegExp(`refusing to start: another server \\(pid ${first.proc.pid}\\) holds the pid file ${pidFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.equal(first.proc.exitCode, null, 'the first server keeps running');
    assert.equal(await serverIdOf(first), id, 'and keeps answering');
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(first.proc.pid), 'the refused server left the pid file alone');

    await first.stop();
    first = null;
    assert.equal(existsSync(pidFile), false, 'a clean exit removes the pid file');

    // A crashed run leaves its pid behind: a pid no process has now.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(pidFile, `${dead}\n`);
    second = await startServer({ config });
    assert.equal(readFileSync(pidFile, 'utf8').trim(), String(second.proc.pid), 'the stale pid file is taken over');
    assert.equal(await serverIdOf(second), id, 'server_id is the same after a restart');
  } finally {
    await first?.stop();
    await second?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('server_id set in the config wins over the kept one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pid-'));
  writeFileSync(join(dir, 'srs.id'), 'vid-kept123\n');
  const server = await startServer({ config: `pid ${join(dir, 'srs.pid')};\nserver_id edge-7;\n${BASIC_CONFIG}` });
  try {
    assert.equal(await serverIdOf(server), 'edge-7');
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
