import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { addQueryToMpdTemplates, writeMpd } from '../../src/format/mpd.js';

describe('MPD writer', () => {
  test('dynamic MPD with SegmentTimeline per representation', () => {
    const text = writeMpd({
      availabilityStartTime: new Date(Date.UTC(2024, 0, 1, 0, 0, 0)),
      publishTime: new Date(Date.UTC(2024, 0, 1, 0, 0, 30)),
      minimumUpdatePeriod: 5,
      timeShiftBufferDepth: 30,
      minBufferTime: 2,
      maxSegmentDuration: 10,
      suggestedPresentationDelay: 10,
      baseUrl: 'livestream/',
      representations: [
        { id: 'video', kind: 'video', codecs: 'avc1.42c01f', bandwidth: 1e6, width: 1280, height: 720, timescale: 90000, startNumber: 4, timeline: [{ t: 0, d: 900000 }, { t: 900000, d: 900000 }] },
        { id: 'audio', kind: 'audio', codecs: 'mp4a.40.2', bandwidth: 64000, sampleRate: 44100, channels: 2, timescale: 44100, startNumber: 4, timeline: [{ t: 0, d: 441000 }] },
      ],
    });
    assert.match(text, /type="dynamic"/);
    assert.match(text, /availabilityStartTime="2024-01-01T00:00:00.000Z"/);
    assert.match(text, /minimumUpdatePeriod="PT5.000S"/);
    assert.match(text, /<BaseURL>livestream\/<\/BaseURL>/);
    assert.match(text, /initialization="\$RepresentationID\$-init.mp4" media="\$RepresentationID\$-\$Number\$.m4s" startNumber="4"/);
    assert.match(text, /<S t="900000" d="900000"\/>/);
    assert.match(text, /<Representation id="video" codecs="avc1.42c01f" bandwidth="1000000" width="1280" height="720">/);
    assert.match(text, /audioSamplingRate="44100"/);
    assert.equal((text.match(/<AdaptationSet /g) ?? []).length, 2);
    assert.ok(text.trim().endsWith('</MPD>'));
  });

  test('a session id on every segment template (DASH sessions on a JWT vhost), nothing else changed', () => {
    const mpd = '<MPD>\n<BaseURL>cam/</BaseURL>\n<SegmentTemplate timescale="90000" initialization="$RepresentationID$-init.mp4" media="$RepresentationID$-$Number$.m4s" startNumber="1">\n<SegmentTemplate initialization="a-init.mp4?x=1" media="a-$Number$.m4s">\n</MPD>\n';
    const out = addQueryToMpdTemplates(mpd, 'dash_ctx', 'ab12');
    assert.match(out, /initialization="\$RepresentationID\$-init\.mp4\?dash_ctx=ab12" media="\$RepresentationID\$-\$Number\$\.m4s\?dash_ctx=ab12" startNumber="1"/);
    assert.match(out, /initialization="a-init\.mp4\?x=1&amp;dash_ctx=ab12" media="a-\$Number\$\.m4s\?dash_ctx=ab12"/);
    assert.match(out, /<BaseURL>cam\/<\/BaseURL>/);
    assert.match(out, /timescale="90000"/);
  });
});
