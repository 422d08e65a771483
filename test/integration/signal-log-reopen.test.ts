/**
 * SIGUSR1 as an SRS operator knows it: logrotate's `mv srs.log srs.log.1;
 * kill -USR1 $(cat objs/srs.pid)` makes the server write to a new srs.log,
 * and neither that signal nor NODE_OPTIONS=--inspect leaves a debugger port
 * open on the server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, renameSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, CLI, BASIC_CONFIG } from '../helpers/server-process.js';
import { fillPorts } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';
import { acceptsTcp } from '../helpers/ports.js';

/** Node's inspector port when opened by SIGUSR1 without a port of its own. */
const INSPECTOR_PORT = 9229;

/** True when an inspector answers /json/list on the port. */
async function inspectorAnswers(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(3000) });
    return r.ok;
  } catch {
    return false;
  }
}

test('SIGUSR1 opens no inspector, and the server goes on', async (t) => {
  const server = await startServer();
  try {
    const before = await acceptsTcp(INSPECTOR_PORT);
    server.signal('SIGUSR1');
    await server.waitForLog((l) => l.msg === 'log file reopened (SIGUSR1)');
    assert.equal(server.proc.exitCode, null, 'the server is still running');
    // Another process of the machine may hold 9229; the port then says nothing about this server.
    if (!before) {
      assert.equal(await acceptsTcp(INSPECTOR_PORT), false, 'nothing listens on 127.0.0.1:9229 after SIGUSR1');
      assert.equal(await inspectorAnswers(INSPECTOR_PORT), false, '/json/list on 9229 fails');
    } else t.diagnostic('127.0.0.1:9229 was already taken before the signal: only the log line is checked');
    const r = await fetch(server.apiUrl('/api/v1/versions'));
    assert.equal(r.status, 200, 'the API still answers');
  } finally {
    await server.stop();
  }
});

test('an inspector opened by NODE_OPTIONS=--inspect is logged as an error and closed', async () => {
  const server = await startServer({ extraEnv: { NODE_OPTIONS: '--inspect=127.0.0.1:0' } });
  try {
    const line = await server.waitForLog((l) => l.level === 50 && /inspector/.test(l.msg));
    const url = String(line['url']);
    const port = Number(/:(\d+)\//.exec(url)?.[1]);
    assert.ok(port > 0, `the error names the inspector's address (${url})`);
    assert.equal(await acceptsTcp(port), false, `the inspector port ${port} is closed`);
    assert.equal(await inspectorAnswers(port), false);
  } finally {
    await server.stop();
  }
});

test("logrotate's recipe: mv srs.log srs.log.1; kill -USR1 $(cat objs/srs.pid) sends new lines to a new srs.log", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-logrotate-'));
  const template = BASIC_CONFIG.replace('srs_log_tank console;', 'srs_log_tank file;\nsrs_log_file ./objs/srs.log;\npid ./objs/srs.pid;');
  const { text } = await fillPorts(template);
  writeFileSync(join(dir, 'sluice.conf'), text);
  const proc = spawn(process.execPath, [CLI, '-c', 'sluice.conf'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const log = join(dir, 'objs', 'srs.log');
  const rotated = join(dir, 'objs', 'srs.log.1');
  const has = (file: string, msg: string): boolean => existsSync(file) && readFileSync(file, 'utf8').includes(`"msg":"${msg}"`);
  try {
    assert.ok(await waitFor(() => has(log, 'Sluice is listening') || proc.exitCode !== null, 30_000), `the server started: ${stderr}`);
    assert.equal(proc.exitCode, null, stderr);
    const pid = Number(readFileSync(join(dir, 'objs', 'srs.pid'), 'utf8'));
    assert.equal(pid, proc.pid, 'objs/srs.pid holds the server pid');

    renameSync(log, rotated);
    process.kill(pid, 'SIGUSR1');
    assert.ok(await waitFor(() => has(log, 'log file reopened (SIGUSR1)'), 15_000), 'a new srs.log gets the reopen line');
    // Another line after the reopen (a reload logs one) lands in the new file only.
    process.kill(pid, 'SIGHUP');
    assert.ok(await waitFor(() => has(log, 'config reloaded'), 15_000), 'the new srs.log gets later lines');
    const old = readFileSync(rotated, 'utf8');
    assert.ok(old.includes('"msg":"Sluice is listening"'), 'the moved file keeps the lines written before');
    assert.ok(!old.includes('config reloaded') && !old.includes('log file reopened'), 'the moved file gets nothing after the signal');

    process.kill(pid, 'SIGTERM');
    assert.equal(await exited, 0);
    assert.equal(existsSync(join(dir, 'objs', 'srs.pid')), false, 'a clean exit removes the pid file');
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
