/**
 * JWT over SRT: the token rides in SRS's stream id (`#!::r=live/s,m=publish,token=...`),
 * which the SRT wing hands to the admission door as the request param. Refused with no
 * token, with a token for another stream and with an expired one; a valid token publishes
 * (FFmpeg over libsrt), and players over RTMP and SRT need a play token of their own.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { JWT_TEST_SECRET, nowSeconds, signToken } from '../helpers/jwt-token.js';
import { probe, run, type Proc } from '../helpers/ffmpeg.js';

const SECRET = JWT_TEST_SECRET;
const now = nowSeconds;
const token = signToken;

let server: RunningServer;
let publisher: Proc | null = null;

before(async () => {
  server = await startServer({
    config: `
listen {{RTMP}};
srs_log_tank console;
http_api { enabled on; listen {{API}}; }
srt_server { enabled on; listen {{SRT}}; }
vhost __defaultVhost__ {
  srt { enabled on; }
  jwt { enabled on; secret ${SECRET}; leeway 5; }
  play { gop_cache on; }
}
`,
  });
});

after(async () => {
  await publisher?.stop();
  await server?.stop();
});

const srtUrl = (streamid: string): string => `srt://127.0.0.1:${server.port('SRT')}?streamid=${streamid}`;

function publishSrt(streamid: string, seconds: number): Proc {
  return run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '25', '-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', srtUrl(streamid)], (seconds + 30) * 1000);
}

/** The refusal the server logged for this stream id (the token in it is redacted). */
function refusalFor(stream: string): boolean {
  return server.logs.some((l) => l.msg === 'SRT connection refused' && String(l['streamid']).includes(`r=live/${stream}`));
}

test('SRT publish without a token, with another stream\'s token or an expired one is refused', async () => {
  const other = await token({ publish: ['live/elsewhere'] });
  const expired = await token({ publish: ['live/*'] }, now() - 3600);
  const cases: [string, string][] = [
    ['none', '#!::r=live/none,m=publish'],
    ['wrong', `#!::r=live/wrong,m=publish,token=${other}`],
    ['old', `#!::r=live/old,m=publish,token=${expired}`],
  ];
  for (const [name, sid] of cases) {
    const p = publishSrt(sid, 5);
    assert.notEqual(await p.done, 0, `${name}: ffmpeg was let in`);
    assert.ok(refusalFor(name), `${name}: no refusal logged`);
  }
  const logged = server.logs.map((l) => JSON.stringify(l)).join('\n');
  assert.ok(!logged.includes(other) && !logged.includes(expired), 'a token was logged whole');
});

test('a valid token publishes over SRT; RTMP and SRT players need a play token', async () => {
  const pub = await token({ publish: ['live/cam'] });
  publisher = publishSrt(`#!::r=live/cam,m=publish,token=${pub}`, 60);
  await server.waitForLog((l) => l.msg === 'SRT connection accepted', 20_000);
  const play = await token({ play: ['live/cam'] });

  const overRtmp = await probe(server.rtmpUrl(`live/cam?token=${play}`), 3);
  assert.deepEqual(overRtmp.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  assert.equal(overRtmp.streams.find((s) => s.codec_type === 'video')?.width, 320);

  const overSrt = await probe(srtUrl(`#!::r=live/cam,m=request,token=${play}`), 3);
  assert.ok(overSrt.streams.some((s) => s.codec_name === 'h264'), JSON.stringify(overSrt.streams));

  const refused = run('ffprobe', ['-v', 'error', srtUrl('#!::r=live/cam,m=request')], 20_000);
  assert.notEqual(await refused.done, 0, 'an SRT player without a token was let in');
  assert.ok(refusalFor('cam'));
});
