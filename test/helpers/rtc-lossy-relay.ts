/**
 * A UDP relay between headless Chromium and the server's WebRTC port that
 * loses RTP (never STUN, DTLS or RTCP) with a seeded probability in either
 * direction, or holds the browser's packets in a queue drained at a fixed
 * rate (a bottleneck link). The browser's WHIP/WHEP peers here offer
 * without their own candidates and get the answer's candidates pointed at
 * the relay, so the relay is the only path. It can also lose the server's
 * DTLS handshake datagrams by a rule (`dropDtlsDown`, e.g. `firstHandshakes`).
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';

/** A seeded PRNG (mulberry32): the same loss pattern every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RTP (not RTCP, RFC 5761 §4) as the relay sees it: SRTP keeps the header in the clear. */
function isRtp(m: Buffer): boolean {
  return m.length >= 12 && m[0]! >>> 6 === 2 && !(m[1]! >= 192 && m[1]! <= 223);
}

/** The handshake message types in one datagram's epoch-0 DTLS handshake records (RFC 6347 §4.1, §4.2.2). */
function handshakeTypes(d: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o + 13 <= d.length; ) {
    const type = d[o]!;
    const epoch = d.readUInt16BE(o + 3);
    const len = d.readUInt16BE(o + 11);
    if (type === 22 && epoch === 0 && len > 0 && o + 13 < d.length) out.push(d[o + 13]!);
    o += 13 + len;
  }
  return out;
}

/** DTLS by its first byte (RFC 7983). */
const isDtls = (d: Buffer): boolean => d.length >= 13 && d[0]! >= 20 && d[0]! <= 63;

/** A `dropDtlsDown` rule: the first `n` datagrams that carry a handshake message of type `type` (1 ClientHello, 11 Certificate). */
export function firstHandshakes(type: number, n: number): (types: number[]) => boolean {
  let seen = 0;
  return (types) => types.includes(type) && seen++ < n;
}

export interface RelayOptions {
  /** Probability of losing a server→browser RTP packet. */
  lossDown?: number;
  /** Probability of losing a browser→server RTP packet. */
  lossUp?: number;
  /** Seed of the loss pattern. */
  seed?: number;
  /** Whether to lose a server→browser DTLS datagram, given the handshake message types in it. */
  dropDtlsDown?: (handshakeTypes: number[]) => boolean;
}

export interface LossyRelay {
  port: number;
  lostDown: number;
  lostUp: number;
  /** Server→browser DTLS datagrams lost by `dropDtlsDown`, and passed. */
  dtlsDroppedDown: number;
  dtlsPassedDown: number;
  /** From now on, browser→server datagrams queue behind a `kbps` link (a queue of at most `maxQueueMs`, then tail drop). */
  capUp(kbps: number, maxQueueMs?: number): void;
  /** The same for server→browser datagrams. */
  capDown(kbps: number, maxQueueMs?: number): void;
  /** Idempotent. */
  close(): void;
}

/** A bottleneck one way: datagrams queue behind `kbps` (at most `maxQueueUs` of queue, then tail drop). */
class Link {
  kbps = 0;
  maxQueueUs = 0;
  /** When the link is free again (µs, performance clock). */
  private freeAt = 0;

  constructor(
    private readonly timers: Set<NodeJS.Timeout>,
    private readonly isClosed: () => boolean,
  ) {}

  /** Sends `m` now (no cap), later (queued), or not at all (false: the queue is full). */
  pass(m: Buffer, send: () => void): boolean {
    if (this.kbps <= 0) {
      send();
      return true;
    }
    const now = performance.now() * 1000;
    const start = Math.max(now, this.freeAt);
    if (start - now > this.maxQueueUs) return false;
    this.freeAt = start + (m.length * 8 * 1000) / this.kbps;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.isClosed()) send();
    }, (this.freeAt - now) / 1000);
    this.timers.add(t);
    return true;
  }
}

export async function lossyRelay(serverPort: number, o: RelayOptions = {}): Promise<LossyRelay> {
  const rnd = seeded(o.seed ?? 7);
  const front = dgram.createSocket('udp4');
  const up = dgram.createSocket('udp4');
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => up.bind(0, '127.0.0.1', r));
  up.connect(serverPort, '127.0.0.1');
  await new Promise<void>((r) => up.once('connect', r));
  let client: { port: number; address: string } | null = null;
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  const upLink = new Link(timers, () => closed);
  const downLink = new Link(timers, () => closed);
  const relay: LossyRelay = {
    port: (front.address() as AddressInfo).port,
    lostDown: 0,
    lostUp: 0,
    dtlsDroppedDown: 0,
    dtlsPassedDown: 0,
    capUp(kbps, maxQueueMs = 1000) {
      upLink.kbps = kbps;
      upLink.maxQueueUs = maxQueueMs * 1000;
    },
    capDown(kbps, maxQueueMs = 1000) {
      downLink.kbps = kbps;
      downLink.maxQueueUs = maxQueueMs * 1000;
    },
    close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      front.close();
      up.close();
    },
  };
  front.on('message', (m, r) => {
    client = { port: r.port, address: r.address };
    if (o.lossUp && isRtp(m) && rnd() < o.lossUp) {
      relay.lostUp++;
      return;
    }
    if (!upLink.pass(m, () => up.send(m))) relay.lostUp++;
  });
  up.on('message', (m) => {
    if (!client) return;
    if (o.lossDown && isRtp(m) && rnd() < o.lossDown) {
      relay.lostDown++;
      return;
    }
    if (o.dropDtlsDown && isDtls(m)) {
      if (o.dropDtlsDown(handshakeTypes(m))) {
        relay.dtlsDroppedDown++;
        return;
      }
      relay.dtlsPassedDown++;
    }
    const to = client;
    if (!downLink.pass(m, () => front.send(m, to.port, to.address))) relay.lostDown++;
  });
  return relay;
}

/** The answer's candidates on `serverPort` moved to `relayPort` (in the page, before setRemoteDescription). */
interface Via {
  serverPort: number;
  relayPort: number;
}

/** WHEP play of video + audio into a <video>, through the relay; the peer is `window.playPc`. */
export async function whepPlayVia(page: Page, url: string, via: Via): Promise<void> {
  await page.evaluate(
    async ([u, from, to]) => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const v = document.createElement('video');
      v.muted = true;
      v.autoplay = true;
      document.body.appendChild(v);
      const ms = new MediaStream();
      pc.ontrack = (e) => {
        ms.addTrack(e.track);
        v.srcObject = ms;
        void v.play().catch(() => undefined);
      };
      await pc.setLocalDescription(await pc.createOffer());
      const offer = pc.localDescription!.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:')).join('\r\n');
      const r = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
      if (r.status !== 201) throw new Error(`WHEP answered ${r.status}: ${await r.text()}`);
      const answer = (await r.text()).replace(new RegExp(`( (?:udp|UDP) \\d+ \\S+) ${from} `, 'g'), `$1 ${to} `);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      (window as unknown as { playPc: RTCPeerConnection }).playPc = pc;
      (window as unknown as { playAnswer: string }).playAnswer = answer;
    },
    [url, via.serverPort, via.relayPort] as const,
  );
}

/** WHIP publish of the fake camera (and microphone) through the relay; the peer is `window.pubPc`. Resolves with the Location. */
export async function whipPublishVia(page: Page, url: string, via: Via): Promise<string> {
  return page.evaluate(
    async ([u, from, to]) => {
      const s = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: true });
      const pc = new RTCPeerConnection();
      for (const t of s.getTracks()) pc.addTransceiver(t, { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      const offer = pc.localDescription!.sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:')).join('\r\n');
      const r = await fetch(u, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
      if (r.status !== 201) throw new Error(`WHIP answered ${r.status}: ${await r.text()}`);
      const answer = (await r.text()).replace(new RegExp(`( (?:udp|UDP) \\d+ \\S+) ${from} `, 'g'), `$1 ${to} `);
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      (window as unknown as { pubPc: RTCPeerConnection }).pubPc = pc;
      return r.headers.get('Location') ?? '';
    },
    [url, via.serverPort, via.relayPort] as const,
  );
}

/** One RTP stats dictionary of the page's peer (`inbound-rtp` of playPc or `outbound-rtp` of pubPc) for `kind`, and the selected candidate pair. */
export async function rtpStats(page: Page, which: 'playPc' | 'pubPc', type: 'inbound-rtp' | 'outbound-rtp', kind: 'video' | 'audio'): Promise<{ rtp: Record<string, number | string>; pair: Record<string, number | string> }> {
  return page.evaluate(
    async ([w, ty, k]) => {
      const pc = (window as unknown as Record<string, RTCPeerConnection>)[w]!;
      const stats = await pc.getStats();
      let rtp: Record<string, number | string> = {};
      let pairId = '';
      const byId = new Map<string, Record<string, number | string>>();
      stats.forEach((s: Record<string, number | string>) => {
        byId.set(s.id as string, s);
        if (s.type === ty && s.kind === k) rtp = { ...rtp, ...s };
        if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pairId = s.selectedCandidatePairId;
      });
      return { rtp, pair: { ...(byId.get(pairId) ?? {}) } };
    },
    [which, type, kind] as const,
  );
}
