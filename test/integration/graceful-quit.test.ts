/**
 * SRS's graceful quit on SIGQUIT: the listeners stay open for
 * grace_start_wait, then close; after everything has stopped the process waits
 * grace_final_wait before it exits. A SIGTERM meanwhile quits fast. Durations
 * are read from the server's own log timestamps (lower bounds) with generous
 * upper bounds, as the machine is busy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, BASIC_CONFIG } from '../helpers/server-process.js';
import { acceptsTcp } from '../helpers/ports.js';

const START_WAIT = 3000;
const FINAL_WAIT = 2000;
/** Time the server's clock may be read late by (timer granularity). */
const SLACK_MS = 20;

test('SIGQUIT: listeners stay open for grace_start_wait, close, and the exit comes grace_final_wait after the stop', async () => {
  const server = await startServer({ config: `grace_start_wait ${START_WAIT};\ngrace_final_wait ${FINAL_WAIT};\n${BASIC_CONFIG}` });
  try {
    let exitedAt = 0;
    const exited = server.exited.then((code) => {
      exitedAt = Date.now();
      return code;
    });
    server.signal('SIGQUIT');
    const open = await server.waitForLog((l) => l.msg === 'graceful stop: listeners stay open for grace_start_wait');
    assert.equal(await acceptsTcp(server.rtmpPort), true, 'RTMP still accepts during grace_start_wait');
    const r = await fetch(server.apiUrl('/api/v1/versions'));
    assert.equal(r.status, 200, 'the API still answers during grace_start_wait');

    const closed = await server.waitForLog((l) => l.msg.startsWith('graceful stop: listeners closed'), START_WAIT + 30_000);
    const startWaited = (closed['time'] as number) - (open['time'] as number);
    assert.ok(startWaited >= START_WAIT - SLACK_MS, `listeners closed ${startWaited} ms after the signal (grace_start_wait ${START_WAIT})`);
    assert.ok(startWaited < START_WAIT + 20_000, `listeners closed in time (${startWaited} ms)`);
    assert.equal(await acceptsTcp(server.rtmpPort), false, 'RTMP refuses once the listeners are closed');

    const final = await server.waitForLog((l) => l.msg === 'graceful stop: grace_final_wait before exit', 30_000);
    assert.equal(await exited, 0);
    const finalWaited = exitedAt - (final['time'] as number);
    assert.ok(finalWaited >= FINAL_WAIT - SLACK_MS, `exit ${finalWaited} ms after the stop (grace_final_wait ${FINAL_WAIT})`);
    assert.ok(finalWaited < FINAL_WAIT + 20_000, `exit came in time (${finalWaited} ms)`);
  } finally {
    await server.stop();
  }
});

test('a SIGTERM during a graceful stop quits fast', async () => {
  const server = await startServer({ config: `grace_start_wait 600000;\ngrace_final_wait 600000;\n${BASIC_CONFIG}` });
  try {
    server.signal('SIGQUIT');
    await server.waitForLog((l) => l.msg === 'graceful stop: listeners stay open for grace_start_wait');
    const t0 = Date.now();
    server.signal('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.ok(Date.now() - t0 < 15_000, `exited ${Date.now() - t0} ms after SIGTERM, not after the 10-minute waits`);
    assert.ok(server.logs.some((l) => l.msg === 'graceful stop turned into a fast stop'));
  } finally {
    await server.stop();
  }
});

test('force_grace_quit on: SIGTERM stops gracefully', async () => {
  const server = await startServer({ config: `force_grace_quit on;\ngrace_start_wait 0;\ngrace_final_wait 0;\n${BASIC_CONFIG}` });
  try {
    server.signal('SIGTERM');
    assert.equal(await server.exited, 0);
    assert.ok(server.logs.some((l) => l.msg === 'graceful stop' && l['signal'] === 'SIGTERM'));
  } finally {
    await server.stop();
  }
});
