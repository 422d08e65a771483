/**
 * SRT through `sluice proxy` (issue 16 item 3), with real processes: two
 * Sluice origins announce their SRT port in their heartbeat; FFmpeg (libsrt)
 * publishes MPEG-TS over SRT to the proxy with SRS's streamid, the proxy
 * routes it by the streamid and relays the datagrams to one origin; ffprobe
 * and srt-live-transmit play it over SRT through the proxy, ffprobe over
 * RTMP through the proxy and HTTP-FLV of the origin; srt-live-transmit
 * publishes through it too. Garbage, a forged conclusion and a streamid
 * with an unknown mode are dropped or refused and the relay goes on. The
 * origins' heartbeats carry their load (`summaries on`): the second publish
 * goes to the origin without the first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { RunningServer } from '../helpers/server-process.js';
import { startProxy, type RunningProxy } from '../helpers/proxy-process.js';
import { probe, run, type Proc } from '../helpers/ffmpeg.js';
import { assertVideo, startProxyOrigin } from '../helpers/proxy-origin.js';
import { waitFor } from '../helpers/wait.js';
import { TsDemuxer } from '../../src/format/mpegts-demuxer.js';
import { ControlType, buildControlPacket } from '../../src/protocol/srt/srt-packet.js';
import { HandshakeType, buildHandshake } from '../../src/protocol/srt/srt-handshake.js';

function publishSrt(url: string, seconds: number): Proc {
  return run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-bf', '0', '-g', '25', '-c:a', 'aac', '-b:a', '64k', '-f', 'mpegts', url], (seconds + 30) * 1000);
}

async function sessions(p: RunningProxy): Promise<Record<string, number>> {
  return (await p.api('/api/v1/proxy/sessions')).body as Record<string, number>;
}

test('SRT through the proxy: routed by streamid, relayed end to end, played over SRT, RTMP and HTTP-FLV', { timeout: 240_000 }, async () => {
  const proxy = await startProxy({ PROXY_LOAD_BALANCER_TYPE: 'memory', PROXY_CONNECT_TIMEOUT: '5' });
  const origins = new Map<string, RunningServer>();
  const procs: Proc[] = [];
  const srtUrl = (streamid: string): string => `srt://127.0.0.1:${proxy.srtPort}?streamid=${streamid}`;
  try {
    assert.ok(proxy.srtPort > 0, 'the proxy says its SRT port');
    for (const id of ['o1', 'o2']) origins.set(id, await startProxyOrigin(id, proxy, { srt: true, summaries: true, gopCache: true }));
    assert.ok(
      await waitFor(async () => {
        const r = await proxy.api('/api/v1/proxy/origins');
        const list = r.body.origins as { id: string; srt: string[]; load?: number }[];
        return list.length === 2 && list.every((o) => o.srt.length === 1 && typeof o.load === 'number');
      }, 20_000),
      'both origins registered with their SRT port and their load',
    );

    // --- garbage: short and random datagrams, a conclusion with a forged cookie
    const junk = dgram.createSocket('udp4');
    await new Promise<void>((r) => junk.bind(0, '127.0.0.1', () => r()));
    const send = (b: Buffer): Promise<void> => new Promise((r) => junk.send(b, proxy.srtPort, '127.0.0.1', () => r()));
    await send(Buffer.from('hello'));
    for (let i = 0; i < 50; i++) await send(Buffer.alloc(200, i));
    const forged = buildHandshake({ version: 5, encryption: 0, extensionField: 1, initialSeq: 1, mtu: 1500, flowWindow: 8192, type: HandshakeType.CONCLUSION, socketId: 7, cookie: 12345, peerIp: Buffer.alloc(16), extensions: [] });
    await send(buildControlPacket(ControlType.HANDSHAKE, 0, 0, 0, forged));
    junk.close();
    assert.ok(await waitFor(() => proxy.logs.some((l) => l.msg === 'srt relay: datagrams dropped'), 5000), 'the garbage is logged');
    assert.equal(proxy.logs.filter((l) => l.msg === 'srt relay: datagrams dropped').length, 1, 'one line for all of it');
    assert.equal((await sessions(proxy)).srt_play, 0);

    // --- FFmpeg publishes over SRT through the proxy
    procs.push(publishSrt(srtUrl('#!::r=live/cam,m=publish'), 120));
    assert.ok(await waitFor(async () => (await sessions(proxy)).srt_publish === 1, 20_000), 'the publisher is relayed');
    const pin = (await proxy.api('/api/v1/proxy/streams?key=__defaultVhost__/live/cam')).body.origin as string;
    const holder = origins.get(pin);
    assert.ok(holder, `pinned to a live origin (${pin})`);
    assert.ok(
      await waitFor(async () => {
        const j = (await (await fetch(holder.apiUrl('/api/v1/streams'))).json()) as { streams?: { name: string; publish?: { active: boolean } }[] };
        return j.streams?.some((s) => s.name === 'cam' && s.publish?.active === true) ?? false;
      }, 15_000),
      `origin ${pin} holds the SRT publish`,
    );

    // --- played over SRT through the proxy (ffprobe, srt-live-transmit), RTMP through the proxy, HTTP-FLV of the origin
    assertVideo(await probe(srtUrl('#!::r=live/cam,m=request'), 4), 'SRT via the proxy (ffprobe)', 40);
    assertVideo(await probe(`rtmp://127.0.0.1:${proxy.rtmpPort}/live/cam`), 'RTMP via the proxy', 40);
    assertVideo(await probe(holder.httpUrl('/live/cam.flv')), 'HTTP-FLV of the origin', 40);

    const slt = spawn('srt-live-transmit', ['-q', srtUrl('#!::r=live/cam,m=request'), 'file://con'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    slt.stdout.on('data', (d: Buffer) => chunks.push(d));
    const enough = await waitFor(() => chunks.reduce((n, c) => n + c.length, 0) > 300_000, 30_000, 50);
    assert.ok((await sessions(proxy)).srt_play >= 1, 'srt-live-transmit is relayed');
    slt.kill('SIGINT');
    await once(slt, 'exit');
    assert.ok(enough, 'srt-live-transmit received 300 KB through the proxy');
    const bytes = Buffer.concat(chunks);
    const d = new TsDemuxer();
    const pes = d.push(bytes.subarray(bytes.indexOf(0x47)));
    assert.deepEqual([...d.streams.values()].map((s) => s.streamType).sort(), [0x0f, 0x1b], 'AAC and H.264 in the TS');
    assert.ok(pes.filter((p) => p.streamId === 0xe0).length >= 25, 'video PES');

    // --- srt-live-transmit publishes through the proxy; ffprobe plays it over SRT through the proxy.
    // Heartbeats now say the origin of live/cam has a client and the other none: the new stream goes to the other.
    assert.ok(
      await waitFor(async () => {
        const list = (await proxy.api('/api/v1/proxy/origins')).body.origins as { id: string; load?: number }[];
        return (list.find((o) => o.id === pin)?.load ?? 0) > (list.find((o) => o.id !== pin)?.load ?? 0);
      }, 15_000),
      'the loads differ',
    );
    const enc = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine', '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-f', 'mpegts', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const sltPub = spawn('srt-live-transmit', ['-q', 'file://con', srtUrl('#!::r=live/slt,m=publish')], { stdio: ['pipe', 'ignore', 'pipe'] });
    enc.stdout.pipe(sltPub.stdin);
    sltPub.stdin.on('error', () => undefined);
    try {
      assert.ok(await waitFor(async () => (await sessions(proxy)).srt_publish === 2, 20_000), 'the second publisher is relayed');
      const slPin = (await proxy.api('/api/v1/proxy/streams?key=__defaultVhost__/live/slt')).body.origin as string;
      assert.notEqual(slPin, pin, 'the new publish went to the least-loaded origin');
      await origins.get(slPin)!.waitForLog((l) => l.msg === 'SRT connection accepted' && String(l['streamid']).includes('live/slt'), 20_000);
      assertVideo(await probe(srtUrl('#!::r=live/slt,m=request'), 4), 'srt-live-transmit publish, SRT via the proxy', 40);
    } finally {
      enc.kill('SIGKILL');
      sltPub.kill('SIGINT');
      await Promise.all([once(enc, 'exit'), once(sltPub, 'exit')]);
    }

    // --- a streamid with an unknown mode is refused by the proxy; the relay goes on
    const bogus = run('ffprobe', ['-v', 'error', srtUrl('#!::r=live/cam,m=bogus')], 20_000);
    assert.notEqual(await bogus.done, 0, 'refused');
    assert.ok(await waitFor(() => proxy.logs.some((l) => l.msg.includes('streamid names no stream')), 5000), 'the refusal is logged');
    assertVideo(await probe(srtUrl('#!::r=live/cam,m=request'), 3), 'SRT via the proxy after the refusal', 40);
    // Players gone (SHUTDOWN or idle), the relays are closed.
    assert.ok(await waitFor(async () => (await sessions(proxy)).srt_play === 0, 20_000), 'the play relays are closed');
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all([...origins.values()].map((o) => o.stop()));
    await proxy.stop();
  }
});
