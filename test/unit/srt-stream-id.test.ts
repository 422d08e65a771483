import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSrtStreamId } from '../../src/protocol/srt/srt-stream-id.js';

const p = (id: string) => parseSrtStreamId(id, 'live');

test('SRS stream id rules (SRS-CONTRACTS §1.7)', () => {
  assert.deepEqual(p(''), { mode: 'publish', vhost: '', app: 'live', stream: 'livestream', param: '' });
  assert.deepEqual(p('livestream'), { mode: 'play', vhost: '', app: 'live', stream: 'livestream', param: '' });
  assert.deepEqual(p('app2/s'), { mode: 'play', vhost: '', app: 'app2', stream: 's', param: '' });
  assert.deepEqual(p('#!::r=live/s,m=publish'), { mode: 'publish', vhost: '', app: 'live', stream: 's', param: '' });
  assert.deepEqual(p('#!::r=live/s,m=request'), { mode: 'play', vhost: '', app: 'live', stream: 's', param: '' });
  assert.deepEqual(p('#!::r=live/s'), { mode: 'play', vhost: '', app: 'live', stream: 's', param: '' });
  assert.equal(p('#!::r=live/s,m=bogus'), null);
  assert.deepEqual(p('#!::h=host.com,r=live/s,m=publish'), { mode: 'publish', vhost: 'host.com', app: 'live', stream: 's', param: 'vhost=host.com' });
  assert.deepEqual(p('#!::h=live/s,m=publish'), { mode: 'publish', vhost: '', app: 'live', stream: 's', param: '' });
  assert.deepEqual(p('#!::h=vhost.com/live/s,m=publish'), { mode: 'publish', vhost: 'vhost.com', app: 'live', stream: 's', param: '' });
  assert.deepEqual(p('#!::r=live/s?secret=x,m=publish'), { mode: 'publish', vhost: '', app: 'live', stream: 's', param: 'secret=x' });
  assert.deepEqual(p('#!::r=s;m=publish&token=abc&u=1'), { mode: 'publish', vhost: '', app: 'live', stream: 's', param: 'token=abc&u=1' });
});

test('srt_server default_streamid and default_mode (SRS 7): an empty id, and plain names', () => {
  const d = { streamId: '#!::r=cam/one,m=request', plainMode: 'publish' as const };
  assert.deepEqual(parseSrtStreamId('', 'live', d), { mode: 'play', vhost: '', app: 'cam', stream: 'one', param: '' });
  assert.deepEqual(parseSrtStreamId('live/s', 'live', d), { mode: 'publish', vhost: '', app: 'live', stream: 's', param: '' });
  // The access-control form says its own mode; without m= it stays a player.
  assert.deepEqual(parseSrtStreamId('#!::r=live/s', 'live', d)?.mode, 'play');
});
