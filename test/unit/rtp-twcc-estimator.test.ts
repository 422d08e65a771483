import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buildTwccFeedback, copyWithTransportSeq, parseTwccFeedback, readTransportSeq, scanOneByteExtension } from '../../src/protocol/rtp/twcc.js';
import { TwccBandwidthEstimator } from '../../src/protocol/rtp/twcc-estimator.js';
import { parseRtpHeader } from '../../src/protocol/rtp/rtp-packet.js';
import { AutoLayer } from '../../src/servers/webrtc/rtc-auto-layer.js';

const PKT = 1200;

/**
 * A sender at `sendKbps` through a link of `linkKbps` (a FIFO queue of at
 * most `maxQueueMs`, tail drop beyond, plus `loss` random loss), reported
 * every 50 ms as a receiver would; returns the estimator after `seconds`.
 */
function simulate(est: TwccBandwidthEstimator, o: { sendKbps: number; linkKbps: number; seconds: number; loss?: number; maxQueueMs?: number; startUs?: number; seq?: { n: number } }): void {
  const gapUs = (PKT * 8 * 1000) / o.sendKbps;
  const serviceUs = (PKT * 8 * 1000) / o.linkKbps;
  const maxQueueUs = (o.maxQueueMs ?? 1000) * 1000;
  let rnd = 12345;
  const random = (): number => ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  let linkFree = 0;
  const start = o.startUs ?? 0;
  const seqState = o.seq ?? { n: 1000 };
  let batch: { seq: number; arrival: number }[] = [];
  let nextReport = start + 50_000;
  const baseDelay = 20_000;
  for (let t = start; t < start + o.seconds * 1e6; t += gapUs) {
    const seq = seqState.n++ & 0xffff;
    est.onSent(seq, PKT, t);
    let arrival = -1;
    const begin = Math.max(t, linkFree);
    if (begin - t <= maxQueueUs && !(o.loss && random() < o.loss)) {
      linkFree = begin + serviceUs;
      arrival = linkFree + baseDelay;
    }
    batch.push({ seq, arrival });
    if (t >= nextReport) {
      // Only what has arrived by now is reported; the rest waits for the next feedback (or is lost).
      let k = 0;
      while (k < batch.length && batch[k]!.arrival <= t) k++;
      const ready = batch.slice(0, k);
      if (ready.length) {
        const base = ready[0]!.seq;
        const last = ready[ready.length - 1]!.seq;
        const arrivals: number[] = [];
        for (const p of ready) arrivals.push(p.arrival);
        assert.equal(((last - base) & 0xffff) + 1, arrivals.length);
        est.onFeedback(parseTwccFeedback(buildTwccFeedback(1, 2, base, 0, arrivals)), t);
        batch = batch.slice(k);
      }
      nextReport = t + 50_000;
    }
  }
}

describe('TWCC bandwidth estimator', () => {
  test('an open link: no loss, no queue, the estimate stays at its maximum', () => {
    const est = new TwccBandwidthEstimator({ maxBps: 5_000_000 });
    simulate(est, { sendKbps: 2000, linkKbps: 100_000, seconds: 5 });
    assert.ok(est.feedbacks > 50);
    assert.equal(est.estimateBps, 5_000_000);
    assert.equal(est.state, 'increase');
    assert.ok(est.queueMs < 5, `queue ${est.queueMs} ms`);
  });

  test('a 350 kbit/s bottleneck under a 2 Mbit/s sender: the estimate falls to about what the link carries', () => {
    const est = new TwccBandwidthEstimator();
    simulate(est, { sendKbps: 2000, linkKbps: 350, seconds: 6 });
    assert.ok(est.estimateBps < 400_000 && est.estimateBps > 200_000, `estimate ${est.estimateBps}`);
    assert.ok(est.ackedBps > 300_000 && est.ackedBps < 400_000, `acked ${est.ackedBps}`);
  });

  test('20 % random loss without a queue cuts the estimate; 1 % lets it grow back', () => {
    const est = new TwccBandwidthEstimator({ maxBps: 3_000_000 });
    const seq = { n: 0 };
    simulate(est, { sendKbps: 1000, linkKbps: 100_000, seconds: 4, loss: 0.2, seq });
    const cut = est.estimateBps;
    assert.ok(cut < 1_000_000, `estimate after loss ${cut}`);
    simulate(est, { sendKbps: 1000, linkKbps: 100_000, seconds: 5, loss: 0.01, startUs: 4e6, seq });
    assert.ok(est.estimateBps > cut * 1.3, `grew from ${cut} to ${est.estimateBps}`);
  });

  test('feedback for packets it never sent (or forgot) changes nothing', () => {
    const est = new TwccBandwidthEstimator({ initialBps: 1_000_000 });
    est.onFeedback(parseTwccFeedback(buildTwccFeedback(1, 2, 500, 0, [-1, -1, -1, 1000])), 1e6);
    assert.equal(est.estimateBps, 1_000_000);
    assert.equal(est.feedbacks, 0);
  });
});

/** A packet with a one-byte-form extension: element 1 (mid "0"), element `twccId` (transport seq 0x1234), payload "hello", 2 bytes of padding. */
function published(twccId: number): Buffer {
  const payload = Buffer.from('hello');
  const b = Buffer.alloc(12 + 4 + 8 + payload.length + 2);
  b[0] = 0x80 | 0x20 | 0x10;
  b[1] = 96;
  b.writeUInt16BE(7, 2);
  b.writeUInt16BE(0xbede, 12);
  b.writeUInt16BE(2, 14);
  b[16] = (1 << 4) | 0;
  b[17] = 0x30;
  b[18] = (twccId << 4) | 1;
  b.writeUInt16BE(0x1234, 19);
  payload.copy(b, 24);
  b[b.length - 1] = 2;
  return b;
}

describe('TWCC numbering of sent packets', () => {
  test('the producer\'s element is found in place, and the other IDs are listed', () => {
    const pkt = published(3);
    const ext = { at: -1, ids: 0 };
    scanOneByteExtension(pkt, 3, ext);
    assert.equal(ext.at, 19);
    assert.equal(ext.ids, 1 << 1);
    // Rewritten in place for a player whose ID is 5: the reader with ID 5 sees our number.
    pkt[ext.at - 1] = (5 << 4) | 1;
    pkt.writeUInt16BE(0xbeef, ext.at);
    assert.equal(readTransportSeq(pkt, 5), 0xbeef);
    assert.equal(readTransportSeq(pkt, 3), -1);
    scanOneByteExtension(pkt, 9, ext);
    assert.equal(ext.at, -1);
    scanOneByteExtension(Buffer.alloc(20, 0x80), 3, ext);
    assert.equal(ext.at, -1);
  });

  test('a packet without an element gets a copy with one: same header fields, payload and padding', () => {
    const pkt = published(3);
    const h = parseRtpHeader(pkt);
    const out = Buffer.alloc(pkt.length + 8);
    const n = copyWithTransportSeq(pkt, h.payloadOffset, 7, 0x4321, out);
    const copy = out.subarray(0, n);
    assert.equal(readTransportSeq(copy, 7), 0x4321);
    assert.equal(readTransportSeq(copy, 1), -1, 'the producer\'s other elements are dropped');
    const h2 = parseRtpHeader(copy);
    assert.equal(h2.sequence, 7);
    assert.equal(h2.payloadType, 96);
    assert.equal(copy.subarray(h2.payloadOffset, h2.payloadEnd).toString(), 'hello');
    // No extension at all (an RTMP-bridged packet).
    const plain = Buffer.concat([Buffer.from([0x80, 96, 0, 9, 0, 0, 0, 1, 0, 0, 0, 2]), Buffer.from('abc')]);
    const m = copyWithTransportSeq(plain, 12, 4, 1, out);
    assert.equal(readTransportSeq(out.subarray(0, m), 4), 1);
    assert.equal(out.subarray(0, m).subarray(parseRtpHeader(out.subarray(0, m)).payloadOffset).toString(), 'abc');
  });
});

describe('automatic simulcast layer', () => {
  const bps = [2_000_000, 600_000, 150_000];

  test('down when the estimate stays under the layer, to the best one that fits', () => {
    const a = new AutoLayer();
    assert.equal(a.choose(0, bps, 350_000, 0), 0, 'not at once');
    assert.equal(a.choose(0, bps, 350_000, 1000), 0);
    assert.equal(a.choose(0, bps, 350_000, 1600), 2);
    assert.equal(a.choose(0, bps, 800_000, 5000), 0);
    assert.equal(a.choose(0, bps, 800_000, 6600), 1);
  });

  test('up one layer only after room for a while; a failed up move doubles the wait', () => {
    const a = new AutoLayer();
    assert.equal(a.choose(2, bps, 1_000_000, 0), 2);
    assert.equal(a.choose(2, bps, 1_000_000, 4900), 2);
    assert.equal(a.choose(2, bps, 1_000_000, 5000), 1);
    // Up failed: the link did not carry it.
    assert.equal(a.choose(1, bps, 300_000, 6000), 1);
    assert.equal(a.choose(1, bps, 300_000, 7600), 2);
    assert.equal(a.upHoldMs, 10_000);
    assert.equal(a.choose(2, bps, 1_000_000, 8000), 2);
    assert.equal(a.choose(2, bps, 1_000_000, 17_000), 2);
    assert.equal(a.choose(2, bps, 1_000_000, 18_000), 1);
  });

  test('a dip shorter than the hold time does not switch; idle layers are skipped', () => {
    const a = new AutoLayer();
    assert.equal(a.choose(0, bps, 300_000, 0), 0);
    assert.equal(a.choose(0, bps, 5_000_000, 1000), 0);
    assert.equal(a.choose(0, bps, 300_000, 2000), 0);
    assert.equal(a.choose(0, [2_000_000, 0, 150_000], 700_000, 2000), 0);
    assert.equal(a.choose(0, [2_000_000, 0, 150_000], 700_000, 3600), 2);
  });
});
