import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStreamRequest, parseUrlRequest, streamUrl, isSafeStreamName, DEFAULT_APP } from '../../src/protocol/stream-url.js';
import { DEFAULT_VHOST } from '../../src/config/vhost-config.js';

// The URL forms of SRS-CONTRACTS §1.3, each as (tcUrl, stream) → (vhost, app, stream, param).
const CASES: [string, string, string, string, string, string][] = [
  ['rtmp://1.2.3.4/live', 'livestream', '1.2.3.4', 'live', 'livestream', ''],
  ['rtmp://1.2.3.4:1935/live', 'livestream?token=x', '1.2.3.4', 'live', 'livestream', '?token=x'],
  ['rtmp://1.2.3.4/live?vhost=v.com', 'livestream', 'v.com', 'live', 'livestream', '?vhost=v.com'],
  ['rtmp://1.2.3.4/live', 'livestream?vhost=v.com&token=x', 'v.com', 'live', 'livestream', '?vhost=v.com&token=x'],
  ['rtmp://1.2.3.4/live...vhost...v.com', 'livestream', 'v.com', 'live', 'livestream', '?vhost=v.com'],
  ['rtmp://v.com/live', 'livestream', 'v.com', 'live', 'livestream', ''],
  ['rtmp://1.2.3.4/live/_definst_', 'livestream', '1.2.3.4', 'live', 'livestream', ''],
  ['rtmp://1.2.3.4/a/b', 'livestream', '1.2.3.4', 'a/b', 'livestream', ''],
  ['rtmp://1.2.3.4', 'livestream', '1.2.3.4', DEFAULT_APP, 'livestream', ''],
  ['rtmp://1.2.3.4/live', 'livestream?vhost=__defaultVhost__', '1.2.3.4', 'live', 'livestream', ''],
  ['rtmp://1.2.3.4/live', 'livestream?domain=d.com', 'd.com', 'live', 'livestream', '?domain=d.com'],
];

test('RTMP URL forms resolve as SRS resolves them', () => {
  for (const [tcUrl, stream, vhost, app, name, param] of CASES) {
    const r = parseStreamRequest(tcUrl, stream);
    assert.deepEqual([r.vhost, r.app, r.stream, r.param], [vhost, app, name, param], `${tcUrl} + ${stream}`);
  }
});

test('an app-only URL leaves the stream empty (rejected later as 2051)', () => {
  const r = parseStreamRequest('rtmp://1.2.3.4/livestream', '');
  assert.equal(r.app, 'livestream');
  assert.equal(r.stream, '');
});

test('schema, host and default ports', () => {
  const r = parseStreamRequest('rtmp://[::1]:19350/live', 's');
  assert.equal(r.schema, 'rtmp');
  assert.equal(r.host, '::1');
  assert.equal(r.port, 19350);
  assert.equal(parseStreamRequest('rtmp://h/live', 's').port, 1935);
  const h = parseUrlRequest('http://h:8080/live/s.flv?vhost=v.com');
  assert.deepEqual([h.vhost, h.app, h.stream, h.port], ['v.com', 'live', 's.flv', 8080]);
  assert.equal(parseUrlRequest('https://h/live/s').port, 443);
});

test('stream_url omits the default vhost', () => {
  assert.equal(streamUrl(DEFAULT_VHOST, 'live', 's'), '/live/s');
  assert.equal(streamUrl('v.com', 'live', 's'), 'v.com/live/s');
});

test('hostile names are not safe to become paths', () => {
  for (const bad of ['', '..', '.', 'a/../b', '../x', 'a\\b', 'a\u0000b', 'a\nb', 'x'.repeat(300), 'a//b', '/abs']) {
    assert.equal(isSafeStreamName(bad), false, JSON.stringify(bad));
  }
  for (const good of ['livestream', 'a/b', 'stream-1_x.y', '直播']) assert.equal(isSafeStreamName(good), true, good);
});

test('random tcUrls never throw', () => {
  const alphabet = 'rtmp:/?#&=._-vhost.. \t\r\n%[]:@';
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const n = Math.floor(Math.random() * 40);
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
    const r = parseStreamRequest(s, s.slice(3));
    assert.equal(typeof r.stream, 'string');
  }
});
