/**
 * JWT on WHEP with a real WebRTC client (node-datachannel): the token comes
 * in `Authorization: Bearer`; none or expired → 401, another stream → 403,
 * valid → the player gets the RTMP publisher's video as RTP. Apart from
 * jwt-auth.test.ts so that libdatachannel's threads end with this process.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type RunningServer } from '../helpers/server-process.js';
import { JWT_TEST_SECRET, nowSeconds, signToken } from '../helpers/jwt-token.js';
import { publish, type Proc } from '../helpers/ffmpeg.js';
import { ndcWhep, type NdcPlayer } from '../helpers/rtc-ndc-client.js';
import { waitFor } from '../helpers/wait.js';

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
http_server { enabled on; listen {{HTTP}}; dir ./html; }
rtc_server { enabled on; listen {{RTC}}; candidate 127.0.0.1; }
vhost __defaultVhost__ {
  jwt { enabled on; secret ${SECRET}; }
  rtc { enabled on; rtmp_to_rtc on; rtc_to_rtmp off; }
  play { gop_cache on; }
}
`,
  });
  publisher = publish(server.rtmpUrl(`live/cam?token=${await token({ publish: ['live/cam'] })}`), { seconds: 60, size: '320x240' });
  await server.waitForLog((l) => l.msg === 'publish started', 20_000);
});

after(async () => {
  await publisher?.stop();
  await server?.stop();
});

test('WHEP: Authorization Bearer; none or expired → 401, another stream → 403, valid → RTP', { timeout: 60_000 }, async () => {
  const url = server.apiUrl('rtc/v1/whep/?app=live&stream=cam');
  await assert.rejects(ndcWhep(url), /WHEP answered 401/);
  await assert.rejects(ndcWhep(url, { Authorization: `Bearer ${await token({ play: ['live/cam2'] })}` }), /WHEP answered 403/);
  await assert.rejects(ndcWhep(url, { Authorization: `Bearer ${await token({ play: ['live/cam'] }, now() - 60)}` }), /WHEP answered 401/);
  let player: NdcPlayer | null = null;
  try {
    player = await ndcWhep(url, { Authorization: `Bearer ${await token({ play: ['live/cam'] })}` });
    const p = player;
    assert.ok(await waitFor(() => p.video.packets > 20, 20_000, 50), `video RTP packets: ${p.video.packets}`);
  } finally {
    player?.close();
  }
});
