import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtmpClientConnection, type RtmpClientEvent } from '../../src/protocol/rtmp/client-connection.js';
import { RtmpServerConnection, type RtmpServerEvent } from '../../src/protocol/rtmp/server-connection.js';
import { RtmpError } from '../../src/protocol/rtmp/rtmp-error.js';
import { MAX_SNIFF_BYTES, RtmpRouteSniffer, type RtmpRoute } from '../../src/proxy/rtmp-route-sniffer.js';
import { RtmpOriginLeg } from '../../src/proxy/rtmp-origin-leg.js';

const TC_URL = 'rtmp://proxy.example:1935/live';

/** Drives a real client through the sniffer, `split` bytes at a time, up to the route. */
function sniff(action: 'play' | 'publish', split: number): { route: RtmpRoute; client: RtmpClientConnection; clientEvents: RtmpClientEvent[] } {
  const client = new RtmpClientConnection();
  const sniffer = new RtmpRouteSniffer();
  const clientEvents: RtmpClientEvent[] = [];
  const toSniffer: Buffer[] = [client.start()];
  let route: RtmpRoute | null = null;
  let connected = false;
  for (let guard = 0; guard < 1000 && !route; guard++) {
    const b = toSniffer.shift();
    if (!b) break;
    for (let i = 0; i < b.length && !route; i += split) {
      const step = sniffer.feed(b.subarray(i, i + split));
      route = step.route;
      for (const out of step.send) {
        for (const ev of client.feed(out)) {
          clientEvents.push(ev);
          if (ev.type === 'send') toSniffer.push(ev.data);
          else if (ev.type === 'handshakeDone') toSniffer.push(client.setChunkSize(4096), client.connect('live', TC_URL));
          else if (ev.type === 'result' && !connected) {
            connected = true;
            toSniffer.push(client.createStream());
          } else if (ev.type === 'result') {
            const streamId = ev.args[1] as number;
            toSniffer.push(action === 'play' ? client.play(streamId, 'cam1?token=t') : client.publish(streamId, 'cam1?vhost=v.example'));
          }
        }
      }
    }
  }
  assert.ok(route, 'the sniffer named a route');
  return { route, client, clientEvents };
}

test('the sniffer learns play and publish, byte by byte and in big pieces', () => {
  for (const split of [1, 7, 100_000]) {
    const p = sniff('play', split);
    assert.equal(p.route.action, 'play');
    assert.equal(p.route.streamKey, '__defaultVhost__/live/cam1');
    assert.equal(p.route.tcUrl, TC_URL);
    assert.equal(p.route.answered.length, 2);
    const q = sniff('publish', split);
    assert.equal(q.route.action, 'publish');
    assert.equal(q.route.streamKey, 'v.example/live/cam1');
  }
});

test('the origin leg replays the client\'s chunk stream and drops the answers the proxy gave', () => {
  const { route, client } = sniff('publish', 13);
  const origin = new RtmpServerConnection();
  const leg = new RtmpOriginLeg(route);
  const originEvents: RtmpServerEvent[] = [];
  const toClient: Buffer[] = [];
  const pump = (bytes: Buffer[]): void => {
    for (const b of bytes) {
      for (const ev of origin.feed(b)) {
        originEvents.push(ev);
        const answer: Buffer[] = [];
        if (ev.type === 'send') answer.push(ev.data);
        if (ev.type === 'connect') answer.push(origin.setChunkSize(8192), origin.connectResult(ev.transactionId));
        if (ev.type === 'createStream') answer.push(origin.createStreamResult(ev.transactionId, 1));
        if (ev.type === 'publish') answer.push(origin.publishStart(1, ev.streamName));
        for (const a of answer) {
          const step = leg.feed(a);
          toClient.push(...step.toClient);
          pump(step.toOrigin);
        }
      }
    }
  };
  pump([leg.start()]);
  assert.ok(leg.ready);
  const names = originEvents.filter((e) => e.type !== 'send').map((e) => e.type);
  assert.deepEqual(names, ['connect', 'createStream', 'publish']);
  const connect = originEvents.find((e) => e.type === 'connect');
  assert.equal(connect?.type === 'connect' ? connect.tcUrl : '', TC_URL);
  // The client sees the origin's publish status, not a second connect or createStream answer.
  const seen = toClient.flatMap((b) => client.feed(b)).filter((e) => e.type !== 'send');
  assert.deepEqual(seen.map((e) => e.type), ['onStatus']);
  assert.equal(seen[0]?.type === 'onStatus' ? seen[0].code : '', 'NetStream.Publish.Start');
});

test('garbage and endless preambles are refused within a bounded number of bytes', () => {
  assert.throws(() => new RtmpRouteSniffer().feed(Buffer.from('GET / HTTP/1.1\r\n\r\n')), RtmpError);
  // A valid C0, then a stream that never names a stream.
  const s = new RtmpRouteSniffer();
  let fed = 0;
  assert.throws(() => {
    s.feed(Buffer.from([3]));
    for (;;) {
      s.feed(Buffer.alloc(1000));
      fed += 1000;
      assert.ok(fed <= MAX_SNIFF_BYTES + 1000, 'bounded');
    }
  }, RtmpError);
  assert.ok(fed <= MAX_SNIFF_BYTES);
  // One huge piece is refused before it is parsed or kept.
  const big = Buffer.alloc(MAX_SNIFF_BYTES + 1);
  big[0] = 3;
  assert.throws(() => new RtmpRouteSniffer().feed(big), /within/);
  // Random bytes after a valid handshake byte: an error, never a hang or a route.
  for (let seed = 1; seed < 50; seed++) {
    const r = new RtmpRouteSniffer();
    let x = seed;
    const junk = Buffer.from(Array.from({ length: 8000 }, () => (x = (x * 1103515245 + 12345) & 0x7fffffff) & 0xff));
    junk[0] = 3;
    try {
      assert.equal(r.feed(junk).route, null);
    } catch (err) {
      assert.ok(err instanceof RtmpError || err instanceof Error);
    }
  }
});
