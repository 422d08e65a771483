/**
 * `-t` and startup name every directive Sluice accepts but does not act on:
 * SRS sample configs that use DVR and SRT get one warning line each (and the
 * success line says so); a config of acted-on directives gets none.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, BASIC_CONFIG, startServer } from '../helpers/server-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function check(name: string, text: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(dir, name);
  writeFileSync(file, text);
  const proc = spawn(process.execPath, [CLI, '-t', '-c', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
}

// SRS's dvr.segment.conf and srt.conf, trimmed.
const DVR_CONF = `listen              1935;
max_connections     1000;
daemon              off;
srs_log_tank        console;
vhost __defaultVhost__ {
    dvr {
        enabled             on;
        dvr_path            ./objs/nginx/html/[app]/[stream].[timestamp].flv;
        dvr_plan            segment;
        dvr_duration        30;
        dvr_wait_keyframe   on;
    }
}
`;
const SRT_CONF = `listen              1935;
max_connections     1000;
daemon              off;
srs_log_tank        console;
srt_server {
    enabled on;
    listen 10080;
    maxbw 1000000000;
}
vhost __defaultVhost__ {
    srt {
        enabled     on;
        srt_to_rtmp on;
    }
    http_remux {
        enabled     on;
        mount       [vhost]/[app]/[stream].flv;
    }
}
`;

test('-t on a DVR config: DVR is acted on, so no warning and exit 0', async () => {
  const r = await check('dvr.segment.conf', DVR_CONF);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /test is successful\n$/);
});

test('-t on a config with a not-yet block: one warning line, exit 0, the success line counts it', async () => {
  const r = await check('hds.conf', DVR_CONF.replace('dvr {', 'hds {').replace(/dvr_\w+ [^;]+;/g, ''));
  assert.equal(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  assert.deepEqual(lines, [`warning: ${join(dir, 'hds.conf')}:6: "vhost.hds" is accepted but not acted on (not implemented yet)`]);
  assert.match(r.stdout, /test is successful \(1 directive accepted but not acted on, see the warnings\)/);
});

test('-t on an SRT config: SRT (maxbw too) is acted on, so no warning', async () => {
  const r = await check('srt.conf', SRT_CONF);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /test is successful\n$/);
});

test('-t on a config of acted-on directives: no warning', async () => {
  const r = await check('rtmp.http.conf', BASIC_CONFIG.replace(/\{\{RTMP\}\}/, '1935').replace('{{API}}', '1985').replace('{{HTTP}}', '8080'));
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /test is successful\n$/);
});

test('startup logs the same warning once', async () => {
  const server = await startServer({ config: `${BASIC_CONFIG}vhost hds.example { hds { enabled on; } }\nvhost hds2.example { hds { enabled on; } }\n` });
  try {
    const warned = server.logs.filter((l) => l.msg.includes('"vhost.hds" is accepted but not acted on'));
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.equal(warned[0]!.level, 40);
  } finally {
    await server.stop();
  }
});
