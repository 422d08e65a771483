import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { addQueryToSegmentUris, hlsTargetDuration, writeLowLatencyPlaylist, writeMediaPlaylist, writeSessionMaster } from '../../src/format/m3u8.js';

describe('m3u8 writers', () => {
  test('classic live playlist as SRS writes it', () => {
    const text = writeMediaPlaylist({
      mediaSequence: 7,
      targetDuration: 6,
      segments: [
        { uri: 'livestream-7.ts', duration: 5.96, discontinuity: false },
        { uri: 'livestream-8.ts', duration: 6, discontinuity: true },
      ],
    });
    assert.equal(
      text,
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-TARGETDURATION:6\n#EXTINF:5.960, no desc\nlivestream-7.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:6.000, no desc\nlivestream-8.ts\n',
    );
    assert.ok(!text.includes('ENDLIST'));
  });

  test('TARGETDURATION = ceil(max(longest segment, fragment × td_ratio))', () => {
    assert.equal(hlsTargetDuration([5.96, 6.0], 5, 1), 6);
    assert.equal(hlsTargetDuration([6.001], 5, 1), 7);
    assert.equal(hlsTargetDuration([2], 10, 1), 10);
    assert.equal(hlsTargetDuration([], 2, 1.5), 3);
  });

  test('hls_ctx master and .ts rewrite merge with existing queries', () => {
    assert.equal(writeSessionMaster('s.m3u8?hls_ctx=abc'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AVERAGE-BANDWIDTH=1\ns.m3u8?hls_ctx=abc\n');
    const out = addQueryToSegmentUris('#EXTM3U\n#EXTINF:1, no desc\na-1.ts\n#EXTINF:1, no desc\nb-2.ts?x=1\nkey.key\n', '.ts', 'hls_ctx', 'id1');
    assert.ok(out.includes('a-1.ts?hls_ctx=id1\n'));
    assert.ok(out.includes('b-2.ts?x=1&hls_ctx=id1\n'));
    assert.ok(out.includes('\nkey.key\n'));
  });

  test('LL-HLS playlist: server control, part info, map, parts, preload hint', () => {
    const text = writeLowLatencyPlaylist({
      mediaSequence: 3,
      targetDuration: 2,
      partTarget: 0.5,
      mapUri: 's-init.mp4',
      segments: [{ uri: 's-3.m4s', duration: 2, discontinuity: false, parts: [{ uri: 's-3.0.m4s', duration: 0.48, independent: true }] }],
      pendingParts: [{ uri: 's-4.0.m4s', duration: 0.5, independent: true }],
      preloadHint: 's-4.1.m4s',
    });
    const lines = text.trim().split('\n');
    assert.equal(lines[0], '#EXTM3U');
    assert.ok(lines.includes('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500'));
    assert.ok(lines.includes('#EXT-X-PART-INF:PART-TARGET=0.50000'));
    assert.ok(lines.includes('#EXT-X-MAP:URI="s-init.mp4"'));
    assert.ok(lines.indexOf('#EXT-X-PART:DURATION=0.48000,URI="s-3.0.m4s",INDEPENDENT=YES') < lines.indexOf('s-3.m4s'));
    assert.equal(lines[lines.length - 1], '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="s-4.1.m4s"');
  });
});
