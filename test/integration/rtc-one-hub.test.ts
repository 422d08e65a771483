/**
 * One hub per stream: a WHIP publisher holds the stream's LiveSource, as an
 * RTMP publisher does (even with rtc_to_rtmp off, when it makes no frames),
 * so there is one name registry and one busy check whichever protocol comes
 * second, the API shows the stream as published by the WHIP client, and a
 * WHEP player takes a seat on the same source and gets the publisher's RTP.
 * The peers are node-datachannel; what is checked is what the API and the
 * clients see.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server-process.js';
import { RtmpSocketClient } from '../helpers/rtmp-socket-client.js';
import { freePort } from '../helpers/ports.js';
import { rtcConfig, until } from '../helpers/rtc-browser.js';
import { ndcWhep, ndcWhip, type NdcPlayer, type WhipPublisher } from '../helpers/rtc-ndc-client.js';

interface ApiStream {
  name: string;
  publish: { active: boolean; cid?: string };
}
interface ApiClient {
  id: string;
  type: string;
  name: string;
}

async function apiStreams(url: (p: string) => string): Promise<ApiStream[]> {
  return ((await (await fetch(url('api/v1/streams/'))).json()) as { streams: ApiStream[] }).streams;
}

async function apiClients(url: (p: string) => string): Promise<ApiClient[]> {
  return ((await (await fetch(url('api/v1/clients/'))).json()) as { clients: ApiClient[] }).clients;
}

test('a WHIP publisher holds the one source: RTMP and a second WHIP are refused, the API shows it, WHEP plays from it', { timeout: 60_000 }, async () => {
  const server = await startServer({ config: rtcConfig(await freePort(), 'rtc { enabled on; rtmp_to_rtc on; rtc_to_rtmp off; }') });
  const url = (path: string): string => server.apiUrl(path);
  let pub: WhipPublisher | null = null;
  let player: NdcPlayer | null = null;
  try {
    pub = await ndcWhip(url('rtc/v1/whip/?app=live&stream=hub'));
    const holder = (await apiClients(url)).find((c) => c.name === 'hub' && c.type === 'rtc-publish')?.id;
    assert.ok(holder, 'the WHIP publisher is a client');
    const st = (await apiStreams(url)).find((s) => s.name === 'hub');
    assert.deepEqual(st?.publish, { active: true, cid: holder }, 'the stream is published by the WHIP client (even with rtc_to_rtmp off)');

    const second = await RtmpSocketClient.connect(server.rtmpPort, 'live');
    assert.notEqual(await second.publish('hub'), 'NetStream.Publish.Start', 'an RTMP publisher is refused');
    await second.close();
    await assert.rejects(ndcWhip(url('rtc/v1/whip/?app=live&stream=hub')), /5020/, 'a second WHIP publisher is refused with 5020');
    assert.deepEqual((await apiStreams(url)).find((s) => s.name === 'hub')?.publish, { active: true, cid: holder }, 'the first publisher keeps the stream');

    player = await ndcWhep(url('rtc/v1/whep/?app=live&stream=hub'));
    const p = player;
    const got = await until(async () => p.video.packets, (n) => n > 20, 20_000);
    assert.ok(got > 20, `the WHEP player gets the publisher's RTP (${got} packets)`);
    const types = (await apiClients(url)).filter((c) => c.name === 'hub').map((c) => c.type).sort();
    assert.deepEqual(types, ['rtc-play', 'rtc-publish']);

    const del = await fetch(url(pub.location!.replace(/^\//, '')), { method: 'DELETE' });
    assert.equal(del.status, 200);
    pub.close();
    pub = null;
    const after = await until(() => apiStreams(url), (ss) => ss.find((s) => s.name === 'hub')?.publish.active !== true, 10_000);
    assert.notEqual(after.find((s) => s.name === 'hub')?.publish.active, true, 'the stream is unpublished');
    const next = await RtmpSocketClient.connect(server.rtmpPort, 'live');
    assert.equal(await next.publish('hub'), 'NetStream.Publish.Start', 'the stream is free for RTMP once the WHIP publisher left');
    await next.close();
  } finally {
    player?.close();
    pub?.close();
    await server.stop();
  }
});
