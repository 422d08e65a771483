/**
 * The live hub, driven through the embeddable server with our own RTMP client
 * for what ffmpeg cannot do here: thousands of short streams, a silent
 * publisher, a player that stops reading, codecs this ffmpeg cannot mux.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { SluiceServer } from '../../src/main/sluice-server.js';
import { FlvDemuxer, type FlvTag } from '../../src/format/flv-demuxer.js';
import { RtmpSocketClient } from '../helpers/rtmp-socket-client.js';
import { startInProcess as startOnFreshPorts } from '../helpers/inprocess-server.js';
import { sleep } from '../helpers/ffmpeg.js';
import { waitFor } from '../helpers/wait.js';
import { AAC_CONFIG, AAC_FRAME, AVC_CONFIG, avcFrame } from '../helpers/synthetic-media.js';

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function startInProcess(vhostBody = '', options: { sourceIdleMs?: number; sourceSweepMs?: number } = {}): Promise<SluiceServer> {
  const text = `listen {{RTMP}};
http_server { enabled on; listen {{HTTP}}; }
vhost __defaultVhost__ {
  http_remux { enabled on; mount [vhost]/[app]/[stream].flv; }
  ${vhostBody}
}`;
  return (await startOnFreshPorts(text, options)).server;
}


test('2,000 short publishes leave no source and no memory behind', async () => {
  const server = await startInProcess('', { sourceIdleMs: 100, sourceSweepMs: 50 });
  const port = server.ports().rtmp[0]!;
  try {
    const once = async (i: number): Promise<void> => {
      const c = await RtmpSocketClient.connect(port, 'churn');
      assert.equal(await c.publish(`s${i}`), 'NetStream.Publish.Start');
      c.sendMedia(9, 0, AVC_CONFIG);
      c.sendMedia(8, 0, AAC_CONFIG);
      c.sendMedia(9, 0, avcFrame(true, 3000));
      c.sendMedia(8, 20, AAC_FRAME);
      await c.close();
    };
    // Warm-up, then the baseline.
    for (let i = 0; i < 50; i++) await once(i);
    await sleep(3000);
    gc();
    const baseline = process.memoryUsage().heapUsed;
    const total = 2000;
    const parallel = 8;
    for (let i = 0; i < total; i += parallel) {
      await Promise.all(Array.from({ length: parallel }, (_, k) => once(1000 + i + k)));
    }
    const peakSources = server.ctx.sources.size;
    const deadline = Date.now() + 5000;
    while ((server.ctx.sources.size > 0 || server.ctx.clients.size > 0) && Date.now() < deadline) await sleep(50);
    assert.equal(server.ctx.sources.size, 0, `sources left (peak ${peakSources})`);
    assert.equal(server.ctx.clients.size, 0, 'clients left');
    // Periodic work (stats windows, sweeps) settles on its own timers.
    await sleep(3000);
    gc();
    await sleep(100);
    gc();
    const grown = process.memoryUsage().heapUsed - baseline;
    assert.ok(grown < 4 * 1024 * 1024, `heap grew by ${(grown / 1024 / 1024).toFixed(1)} MB after ${total} streams`);
  } finally {
    await server.stop();
  }
});

test('idle sources keep their sequence headers, not the network reads they came in', async () => {
  // Sources outlive their publisher (a republish finds its headers); each must then pin only its own bytes.
  const server = await startInProcess('', { sourceIdleMs: 600_000, sourceSweepMs: 600_000 });
  const port = server.ports().rtmp[0]!;
  try {
    const once = async (i: number): Promise<void> => {
      const c = await RtmpSocketClient.connect(port, 'idle');
      assert.equal(await c.publish(`s${i}`), 'NetStream.Publish.Start');
      // Headers and a large keyframe in one write: the server reads them in one buffer.
      c.sendMedia(18, 0, Buffer.from([0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x05]));
      c.sendMedia(9, 0, AVC_CONFIG);
      c.sendMedia(8, 0, AAC_CONFIG);
      c.sendMedia(9, 0, avcFrame(true, 40_000));
      await c.close();
    };
    for (let i = 0; i < 10; i++) await once(i);
    assert.ok(await waitFor(() => server.ctx.clients.size === 0, 30_000), 'clients gone');
    await sleep(200);
    gc();
    const baseline = process.memoryUsage().arrayBuffers;
    const total = 200;
    for (let i = 0; i < total; i += 8) await Promise.all(Array.from({ length: 8 }, (_, k) => once(100 + i + k)));
    assert.ok(await waitFor(() => server.ctx.clients.size === 0, 30_000), 'clients gone');
    const source = server.ctx.sources.get('__defaultVhost__', 'idle', 's150');
    assert.ok(source?.videoHeader && source.audioHeader, 'the idle source kept its headers');
    assert.equal(source.videoHeader.payload.buffer.byteLength, source.videoHeader.flvBody!.length, 'the header owns its bytes');
    // Closed sockets release their buffers over a few turns of the loop: collect until the figure settles.
    let last = Infinity;
    for (let round = 0; round < 20; round++) {
      await sleep(100);
      gc();
      const now = process.memoryUsage().arrayBuffers;
      if (Math.abs(last - now) < 64 * 1024) break;
      last = now;
    }
    const grown = process.memoryUsage().arrayBuffers - baseline;
    // Pinned reads would be >= 40 KB per source (8 MB); the headers themselves are a few dozen bytes, and
    // sockets closed last may still settle.
    assert.ok(grown < total * 16384, `array buffers grew by ${(grown / 1024).toFixed(0)} KB for ${total} idle sources`);
  } finally {
    await server.stop();
  }
});

test('a silent publisher is cut after firstpkt_timeout, a stalled one after normal_timeout', async () => {
  const server = await startInProcess('publish { firstpkt_timeout 600; normal_timeout 600; }');
  const port = server.ports().rtmp[0]!;
  try {
    const silent = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await silent.publish('quiet'), 'NetStream.Publish.Start');
    const t0 = Date.now();
    await new Promise((r) => silent.socket.once('close', r));
    // A timer that never fires fails; a machine ten times slower than this one still passes.
    assert.ok(Date.now() - t0 < 10_000, `cut ${Date.now() - t0} ms after publishing (firstpkt_timeout 600 ms)`);

    const stalled = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await stalled.publish('stall'), 'NetStream.Publish.Start');
    stalled.sendMedia(9, 0, AVC_CONFIG);
    stalled.sendMedia(9, 0, avcFrame(true, 100));
    const lastSent = Date.now();
    await new Promise((r) => stalled.socket.once('close', r));
    // The server saw the frame after we sent it: it may not cut before 600 ms from then, however slow the machine.
    assert.ok(Date.now() - lastSent >= 590, `alive while within normal_timeout (cut after ${Date.now() - lastSent} ms)`);
    // The stream is free again for the next publisher.
    const next = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await next.publish('stall'), 'NetStream.Publish.Start');
    await next.close();
  } finally {
    await server.stop();
  }
});

test('a second publisher gets NetStream.Publish.BadName; players keep the first', async () => {
  const server = await startInProcess();
  const port = server.ports().rtmp[0]!;
  try {
    const first = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await first.publish('busy'), 'NetStream.Publish.Start');
    const second = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await second.publish('busy'), 'NetStream.Publish.BadName');
    await new Promise((r) => (second.closed ? r(null) : second.socket.once('close', r)));
    assert.equal(server.ctx.sources.get('__defaultVhost__', 'live', 'busy')?.publisher?.id !== undefined, true);
    await first.close();
  } finally {
    await server.stop();
  }
});

test('a player that stops reading drops to the next keyframe; its queue stays bounded', async () => {
  const server = await startInProcess('play { queue_length 2; mw_latency 0; }');
  const port = server.ports().rtmp[0]!;
  try {
    const pub = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await pub.publish('fat'), 'NetStream.Publish.Start');
    pub.sendMedia(9, 0, AVC_CONFIG);
    const player = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await player.play('fat'), 'NetStream.Play.Start');
    player.socket.pause(); // stops reading: the server's socket fills up
    const source = server.ctx.sources.get('__defaultVhost__', 'live', 'fat')!;
    let ts = 0;
    // 40 s of 200 KB frames at 25 fps, GOP 1 s, sent as fast as possible.
    for (let i = 0; i < 1000; i++, ts += 40) {
      pub.sendMedia(9, ts, avcFrame(i % 25 === 0, 200_000));
      if (i % 50 === 0) await sleep(5);
    }
    // Every byte sent has been read (and so handled) by the server.
    const pubSession = server.ctx.clients.get(source.publisher!.id)!;
    assert.ok(await waitFor(() => pubSession.bytesIn() >= pub.socket.bytesWritten, 30_000), 'the server read the whole publish');
    const consumer = [...source.consumers][0]!;
    assert.ok(consumer.framesDropped > 0, 'frames were dropped for the slow player');
    assert.ok(consumer.queuedFrames <= 2 * 25 + 5, `queue bounded by queue_length: ${consumer.queuedFrames} frames`);
    // Reading again: after the headers, every video frame the player gets after a gap starts with a keyframe.
    player.socket.resume();
    // Until the last frame sent (40 s in) arrives: what the queue kept is then all read.
    await waitFor(() => player.media().some((m) => m.messageType === 9 && m.timestamp === ts - 40), 15_000);
    const videos = player.media().filter((m) => m.messageType === 9 && m.payload[1] === 1);
    assert.ok(videos.length > 0);
    assert.equal(videos[0]!.payload[0], 0x17, 'the first frame the player gets is a keyframe');
    for (let i = 1; i < videos.length; i++) {
      if (videos[i]!.timestamp - videos[i - 1]!.timestamp > 40) assert.equal(videos[i]!.payload[0], 0x17, `frame after a drop at ${videos[i]!.timestamp} is a keyframe`);
    }
    await player.close();
    await pub.close();
  } finally {
    await server.stop();
  }
});

test('enhanced RTMP (HEVC hvc1, AV1 av01) passes through to RTMP and HTTP-FLV players byte for byte', async () => {
  const server = await startInProcess('play { mw_latency 0; }');
  const { rtmp: [port], http } = server.ports();
  try {
    const pub = await RtmpSocketClient.connect(port!, 'live');
    assert.equal(await pub.publish('ex'), 'NetStream.Publish.Start');
    const fourcc = (s: string): Buffer => Buffer.from(s, 'ascii');
    // E-RTMP: 0x80 | frameType << 4 | packetType; SequenceStart = 0, CodedFrames = 1 (with cts), CodedFramesX = 3.
    const hvcConfig = Buffer.concat([Buffer.from([0x90]), fourcc('hvc1'), Buffer.from([1, 1, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x5d, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0])]);
    const hvcKey = Buffer.concat([Buffer.from([0x91]), fourcc('hvc1'), Buffer.from([0, 0, 0]), Buffer.from([0, 0, 0, 6, 0x26, 0x01, 0xaf, 0x11, 0x22, 0x33])]);
    const hvcInter = Buffer.concat([Buffer.from([0xa3]), fourcc('hvc1'), Buffer.from([0, 0, 0, 4, 0x02, 0x01, 0xd0, 0x09])]);
    pub.sendMedia(9, 0, hvcConfig);
    pub.sendMedia(9, 0, hvcKey);

    const player = await RtmpSocketClient.connect(port!, 'live');
    assert.equal(await player.play('ex'), 'NetStream.Play.Start');
    const flvTags: FlvTag[] = [];
    const demux = new FlvDemuxer();
    const ac = new AbortController();
    const res = await fetch(`http://127.0.0.1:${http}/live/ex.flv`, { signal: ac.signal });
    const reading = (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) flvTags.push(...demux.feed(Buffer.from(chunk)));
      } catch {
        /* aborted */
      }
    })();
    const videoCount = (): [number, number] => [player.media().filter((m) => m.messageType === 9).length, flvTags.filter((t) => t.type === 9).length];
    // Both players have the config and the GOP before the live frame is sent.
    await waitFor(() => videoCount().every((n) => n >= 2));
    pub.sendMedia(9, 40, hvcInter);
    await waitFor(() => videoCount().every((n) => n >= 3));
    ac.abort();
    await reading;

    const sent = [hvcConfig, hvcKey, hvcInter];
    const rtmpVideo = player.media().filter((m) => m.messageType === 9).map((m) => m.payload);
    assert.deepEqual(rtmpVideo, sent, 'RTMP player got the E-RTMP bodies unchanged (config, GOP, then live)');
    const flvVideo = flvTags.filter((t) => t.type === 9).map((t) => t.body);
    assert.deepEqual(flvVideo, sent, 'HTTP-FLV player got the same bodies');
    const source = server.ctx.sources.get('__defaultVhost__', 'live', 'ex')!;
    assert.equal(source.videoHeader?.codec, 'HEVC');
    await player.close();
    await pub.close();
  } finally {
    await server.stop();
  }
});

test('a republish within the wait keeps RTMP players, who get the new publisher\'s frames', async () => {
  const server = await startInProcess('play { mw_latency 0; }');
  const port = server.ports().rtmp[0]!;
  try {
    const pub1 = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await pub1.publish('re'), 'NetStream.Publish.Start');
    pub1.sendMedia(9, 0, AVC_CONFIG);
    pub1.sendMedia(9, 0, avcFrame(true, 100));
    const player = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await player.play('re'), 'NetStream.Play.Start');
    await pub1.close();
    const source = server.ctx.sources.get('__defaultVhost__', 'live', 're')!;
    assert.ok(await waitFor(() => source.publisher === null), 'the server saw the first publisher leave');
    const pub2 = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await pub2.publish('re'), 'NetStream.Publish.Start');
    pub2.sendMedia(9, 0, AVC_CONFIG);
    pub2.sendMedia(9, 0, avcFrame(true, 123));
    const frames = (): number => player.media().filter((m) => m.messageType === 9 && m.payload[1] === 1).length;
    await waitFor(() => frames() >= 2);
    assert.equal(player.closed, false);
    const sizes = player.media().filter((m) => m.messageType === 9 && m.payload[1] === 1).map((m) => m.payload.length);
    assert.deepEqual(sizes, [5 + 4 + 100, 5 + 4 + 123]);
    const ts = player.media().filter((m) => m.messageType === 9).map((m) => m.timestamp);
    for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! >= ts[i - 1]!, `timestamps monotonic across the republish: ${ts.join(',')}`);
    await pub2.close();
    // Without a republish, the player gets EOF (UnpublishNotify) and is closed after the wait.
    const eof = await player.next((e) => e.type === 'onStatus' && e.code === 'NetStream.Play.UnpublishNotify', 8000);
    assert.equal(eof.type, 'onStatus');
    await player.close();
  } finally {
    await server.stop();
  }
});

test('hostile peers after a valid handshake (absurd chunk size, garbage chunks, malformed AMF) are closed; a live publisher goes on', async () => {
  const server = await startInProcess('play { mw_latency 0; }');
  const port = server.ports().rtmp[0]!;
  try {
    const pub = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await pub.publish('safe'), 'NetStream.Publish.Start');
    pub.sendMedia(9, 0, AVC_CONFIG);
    const player = await RtmpSocketClient.connect(port, 'live');
    assert.equal(await player.play('safe'), 'NetStream.Play.Start');

    const setChunkSize = (n: number): Buffer => {
      const b = Buffer.alloc(16);
      b[0] = 0x02; // fmt 0, csid 2
      b.writeUIntBE(4, 4, 3); // length
      b[7] = 1; // type 1: set chunk size
      b.writeUInt32BE(n, 12);
      return b;
    };
    const badAmfCommand = (() => {
      const body = Buffer.from([0x02, 0x00, 0x07, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0x03, 0x00, 0xff, 0x41]);
      const h = Buffer.alloc(12);
      h[0] = 0x03;
      h.writeUIntBE(body.length, 4, 3);
      h[7] = 20;
      return Buffer.concat([h, body]);
    })();
    const hostile = [setChunkSize(0), setChunkSize(0x7fffffff), Buffer.alloc(5000, 0xc5), badAmfCommand];
    for (const payload of hostile) {
      const { RtmpClientHandshake } = await import('../../src/protocol/rtmp/handshake.js');
      const hs = new RtmpClientHandshake(false);
      const net = await import('node:net');
      const closed = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(hs.start()));
        let done = false;
        s.on('data', (d: Buffer) => {
          if (done) return;
          const step = hs.feed(d);
          for (const b of step.send) s.write(b);
          if (step.done) {
            done = true;
            s.write(payload);
          }
        });
        s.on('close', () => resolve(true));
        s.on('error', () => undefined);
        setTimeout(() => {
          s.destroy();
          resolve(false);
        }, 15_000);
      });
      assert.ok(closed, `server closed the connection after ${payload.subarray(0, 8).toString('hex')}`);
    }
    pub.sendMedia(9, 40, avcFrame(true, 500));
    await waitFor(() => player.media().some((m) => m.timestamp === 40 && m.messageType === 9));
    assert.equal(pub.closed, false, 'publisher still connected');
    assert.ok(player.media().some((m) => m.timestamp === 40 && m.messageType === 9), 'player still receives frames');
    await player.close();
    await pub.close();
  } finally {
    await server.stop();
  }
});
