import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { dvrTarget } from '../../src/outputs/dvr/dvr-path.js';

// 2006-01-02 15:04:05.999 UTC, Go's reference time that SRS's variables are named after.
const NOW = new Date(Date.UTC(2006, 0, 2, 15, 4, 5, 999));
const at = (path: string, stream = 'livestream', app = 'live') => dvrTarget(path, { vhost: 'v.test', app, stream, now: NOW, utc: true });

describe('dvr_path', () => {
  test('every SRS variable, UTC date parts', () => {
    const t = at('./objs/[vhost]/[app]/[stream]-[2006][01][02]-[15][04][05].[999]-[timestamp]-[timestamp_ms].flv')!;
    assert.equal(t.file, `./objs/v.test/live/livestream-20060102-150405.999-${NOW.getTime()}-${NOW.getTime()}.flv`);
    assert.equal(t.abs, resolve(`objs/v.test/live/livestream-20060102-150405.999-${NOW.getTime()}-${NOW.getTime()}.flv`));
    assert.equal(t.format, 'flv');
  });

  test('the extension picks the container; no .flv/.mp4 suffix is a directory (SRS1 style)', () => {
    assert.equal(at('/rec/[app]/[stream].mp4')!.format, 'mp4');
    const d = at('/rec/[app]')!;
    assert.equal(d.file, `/rec/live/livestream.${NOW.getTime()}.flv`);
    assert.equal(d.format, 'flv');
    assert.equal(at('/rec/')!.file, `/rec/livestream.${NOW.getTime()}.flv`);
  });

  test('local time unless utc_time', () => {
    const local = dvrTarget('/r/[15].flv', { vhost: 'v', app: 'a', stream: 's', now: NOW, utc: false })!;
    assert.equal(local.file, `/r/${String(NOW.getHours()).padStart(2, '0')}.flv`);
  });

  test('hostile names never leave the fixed directory in front of the first variable', () => {
    for (const s of ['../../etc/x', '../../../../tmp/x', 'a/../../../b', 'x\0y', 'a\\..\\..\\b']) assert.equal(at('/rec/[app]/[stream].flv', s), null, s);
    assert.equal(at('/rec/[app]/[stream].flv', 'x', '..'), null);
    // Inside the root is allowed (it is what the operator's directory holds), and literal %2e stays literal.
    assert.equal(at('/rec/[app]/[stream].flv', '../x')!.abs, '/rec/x.flv');
    assert.equal(at('/rec/[app]/[stream].flv', '%2e%2e')!.abs, '/rec/live/%2e%2e.flv');
    // A path starting with a variable is jailed to the working directory.
    assert.equal(dvrTarget('[stream].flv', { vhost: 'v', app: 'a', stream: '../x', now: NOW, utc: true }), null);
  });
});
