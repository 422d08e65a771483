import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execVariables, expandExecArgv, type ExecRequest } from '../../src/outputs/exec/exec-variables.js';

const REQ: ExecRequest = {
  vhost: '__defaultVhost__',
  app: 'live',
  stream: 'cam1',
  param: '',
  tcUrl: 'rtmp://example.com/live',
  pageUrl: '',
  rtmpHost: '127.0.0.1',
  rtmpPort: 19350,
};
const NOW = new Date(2026, 0, 2, 3, 4, 5, 6);

test('SRS variables expand inside each word; [url] is the RTMP URL of the published stream', () => {
  const words = ['ffmpeg', '-f', 'flv', '-i', '[url]', '-c', 'copy', '-y', './objs/[app]/[stream]-[2006][01][02][15][04][05][999].flv', '[vhost]:[port]:[tcUrl]:[engine]:[unknown]'];
  assert.deepEqual(expandExecArgv(words, execVariables(REQ, NOW)), [
    'ffmpeg', '-f', 'flv', '-i', 'rtmp://127.0.0.1:19350/live/cam1', '-c', 'copy', '-y', './objs/live/cam1-20260102030405006.flv',
    '__defaultVhost__:19350:rtmp://example.com/live::[unknown]',
  ]);
  assert.equal(expandExecArgv(['[timestamp]'], execVariables(REQ, NOW))[0], String(NOW.getTime()));
});

test('[url] keeps the query and names a non-default vhost, as srs_generate_rtmp_url', () => {
  const url = (r: Partial<ExecRequest>): string => expandExecArgv(['[url]'], execVariables({ ...REQ, ...r }, NOW))[0]!;
  assert.equal(url({ param: '?token=a' }), 'rtmp://127.0.0.1:19350/live/cam1?token=a');
  assert.equal(url({ vhost: 'v.example' }), 'rtmp://127.0.0.1:19350/live/cam1?vhost=v.example');
  assert.equal(url({ vhost: 'v.example', param: '?token=a' }), 'rtmp://127.0.0.1:19350/live/cam1?token=a&vhost=v.example');
  assert.equal(url({ vhost: 'v.example', param: '?vhost=v.example' }), 'rtmp://127.0.0.1:19350/live/cam1?vhost=v.example');
  assert.equal(url({ rtmpHost: '::1' }), 'rtmp://[::1]:19350/live/cam1');
});

test('a value never splits into more words nor expands again', () => {
  const vars = execVariables({ ...REQ, stream: 'a b [app]', param: '?x=1 -y /etc/passwd' }, NOW);
  assert.deepEqual(expandExecArgv(['out/[stream].flv', '[param]'], vars), ['out/a b [app].flv', '?x=1 -y /etc/passwd']);
});
