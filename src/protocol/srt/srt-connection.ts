/**
 * One established SRT connection in live mode, sans-IO: the wing feeds it
 * parsed packets and clock ticks (µs from an injected clock) and takes out
 * datagrams to send, payloads delivered in order, and events.
 *
 * Receiving: a buffer keyed by sequence number (bounded by the flow window),
 * a loss list (NAK at once on a gap, and again every (RTT+4·RTTVar)/2, at least
 * 20 ms, as libsrt does), full ACKs
 * every 10 ms answered by ACKACK for the RTT, and TSBPD: a packet is handed
 * on at the sender's timestamp plus the negotiated latency; with too-late
 * drop, a hole whose successor is due is skipped.
 * Sending: every payload gets the next sequence and message number and is
 * kept until ACKed or too old (then dropped with a DROPREQ); a NAK resends
 * from that buffer. KEEPALIVE after a second of silence; the peer is gone
 * after peer_idle_timeout without a packet; SHUTDOWN either way.
 * Encryption: a sender refreshes its stream key in a running connection (a
 * KMREQ in a user-defined control packet, libsrt every 2^24 packets by
 * default, about 10 hours at 5 Mbit/s): the new key is unwrapped with the
 * passphrase, answered with KMRSP, and packets flagged with either key decrypt.
 */
import { SEQ_MAX, seqDiff, seqInc, tsWrap } from './srt-seq.js';
import {
  ControlType,
  Position,
  buildAckBody,
  buildControlPacket,
  buildDataPacket,
  buildDropRequestBody,
  buildLossList,
  parseAck,
  parseDropRequest,
  parseLossList,
  type LossRange,
  type SrtControlPacket,
  type SrtDataPacket,
  type SrtPacket,
} from './srt-packet.js';
import { cryptPayload, parseKeyMaterial, unwrapKeys, type StreamKeys } from './srt-key-material.js';

export interface SrtConnectionOptions {
  localSocketId: number;
  peerSocketId: number;
  /** First sequence number the peer sends. */
  peerInitialSeq: number;
  /** First sequence number we send. */
  initialSeq: number;
  /** TSBPD latency we receive with (µs). */
  recvLatencyUs: number;
  /** Latency the peer receives with (µs): how long our packets stay useful. */
  sendLatencyUs: number;
  tsbpd: boolean;
  tlpktdrop: boolean;
  /** Packets the peer will take ahead of its ACK. */
  peerFlowWindow: number;
  /** Our receive buffer, in packets. */
  recvBufferPackets: number;
  /** Our send buffer, in packets. */
  sendBufferPackets: number;
  peerIdleTimeoutUs: number;
  keys: StreamKeys | null;
  /** The passphrase the keys were wrapped with: unwraps the peer's refreshed keys (KMREQ in a running connection). */
  passphrase?: string;
  /** The clock (µs) at which our timestamps are 0. */
  startUs: number;
  /** The peer's clock offset: arrival time minus its timestamp on the handshake (µs), or null. */
  peerStartUs: number | null;
  /**
   * `maxbw`: a cap on the data we send (first sends and retransmissions), in
   * bytes per second; 0 or less for none. Control packets are not paced.
   */
  maxBwBytesPerSec?: number;
}

/** The pacer's burst: this much of the rate may go at once (one server tick and some). */
const PACE_BURST_US = 20_000;

export type SrtEvent = { type: 'closed'; reason: string };

export interface SrtStats {
  rttUs: number;
  rttVarUs: number;
  packetsReceived: number;
  packetsLost: number;
  packetsRetransmittedIn: number;
  packetsDropped: number;
  packetsBelated: number;
  bytesReceived: number;
  packetsSent: number;
  packetsRetransmitted: number;
  packetsSendDropped: number;
  bytesSent: number;
  recvBufferPackets: number;
  sendBufferPackets: number;
  lossListSize: number;
  dropRequestsIn: number;
}

const SYN_US = 10_000;
const KEEPALIVE_US = 1_000_000;
const MIN_NAK_US = 20_000;
const MAX_NAK_WORDS = 300;
const MAX_ACK_HISTORY = 64;
const MAX_REXMIT_PER_NAK = 2048;
/** SRT_CMD_KMREQ / SRT_CMD_KMRSP: the subtypes of a user-defined control packet that carry key material. */
const CMD_KMREQ = 3;
const CMD_KMRSP = 4;
/** KMRSP's one-word refusal (SRT_KM_S_BADSECRET). */
const KM_BADSECRET = 4;
/** A new key costs a PBKDF2 of 2048 rounds: at most one per this interval; a sender resends its KMREQ until answered. */
const MIN_REKEY_US = 1_000_000;

interface RecvSlot {
  /** null: dropped on the sender's request (a tombstone the ACK may pass). */
  payload: Buffer | null;
  /** Timestamp unwrapped (µs). */
  ts: number;
}

interface SendSlot {
  packet: Buffer;
  sentAt: number;
  ts: number;
  msg: number;
}

export class SrtConnection {
  readonly stats: SrtStats = {
    rttUs: 100_000,
    rttVarUs: 50_000,
    packetsReceived: 0,
    packetsLost: 0,
    packetsRetransmittedIn: 0,
    packetsDropped: 0,
    packetsBelated: 0,
    bytesReceived: 0,
    packetsSent: 0,
    packetsRetransmitted: 0,
    packetsSendDropped: 0,
    bytesSent: 0,
    recvBufferPackets: 0,
    sendBufferPackets: 0,
    lossListSize: 0,
    dropRequestsIn: 0,
  };
  closed = false;
  /** Stream keys now in use (replaced when the peer refreshes them). */
  private keys: StreamKeys | null;
  /** The key we encrypt with, chosen at the handshake (we never refresh our own). */
  private readonly sendKeyFlags: number;
  /** The last key material accepted (its resends are answered without unwrapping again). */
  private lastKm: Buffer | null = null;
  private lastRekeyAt = -Infinity;
  private packets: Buffer[] = [];
  private payloads: Buffer[] = [];
  private events: SrtEvent[] = [];
  // receive side
  private rcvNext: number;
  private rcvHighest: number;
  private ackCursor: number;
  private lastAckSent: number;
  private readonly rcvBuf = new Map<number, RecvSlot>();
  /** Missing sequence → when it was last reported. */
  private readonly loss = new Map<number, number>();
  private tsBase: number | null;
  private lastTs = -1;
  private tsUnwrapped = 0;
  private ackNumber = 0;
  private readonly ackSentAt = new Map<number, number>();
  private nextAckAt: number;
  private nextNakAt: number;
  private lastRecvAt: number;
  private recvCount = 0;
  private recvBytesWindow = 0;
  private rateWindowStart: number;
  private pps = 0;
  private bps = 0;
  // send side
  private sndNext: number;
  private sndAcked: number;
  private msgNo = 1;
  private readonly sndBuf = new Map<number, SendSlot>();
  private lastSentAt: number;
  // maxbw pacing: a token bucket of bytes; data packets over it wait in `paced` (bounded by the send buffer).
  private readonly rate: number;
  private readonly burst: number;
  private credit: number;
  private creditAt: number;
  private readonly paced: { packet: Buffer; ts: number }[] = [];
  private pacedHead = 0;

  constructor(
    private readonly o: SrtConnectionOptions,
    now: number,
  ) {
    this.keys = o.keys;
    this.sendKeyFlags = o.keys ? (o.keys.even ? 1 : 2) : 0;
    this.rcvNext = o.peerInitialSeq;
    this.rcvHighest = seqInc(o.peerInitialSeq, -1);
    this.ackCursor = o.peerInitialSeq;
    this.lastAckSent = o.peerInitialSeq;
    this.sndNext = o.initialSeq;
    this.sndAcked = o.initialSeq;
    this.tsBase = o.peerStartUs;
    this.nextAckAt = now + SYN_US;
    this.nextNakAt = now + MIN_NAK_US;
    this.lastRecvAt = now;
    this.lastSentAt = now;
    this.rateWindowStart = now;
    this.rate = o.maxBwBytesPerSec && o.maxBwBytesPerSec > 0 ? o.maxBwBytesPerSec : 0;
    this.burst = Math.max(3000, (this.rate * PACE_BURST_US) / 1e6);
    this.credit = this.burst;
    this.creditAt = now;
  }

  /** Data packets waiting for the maxbw pacer. */
  get pacedPackets(): number {
    return this.paced.length - this.pacedHead;
  }

  get peerSocketId(): number {
    return this.o.peerSocketId;
  }

  /** The datagrams, payloads and events produced since the last call. */
  take(): { packets: Buffer[]; payloads: Buffer[]; events: SrtEvent[] } {
    const out = { packets: this.packets, payloads: this.payloads, events: this.events };
    this.packets = [];
    this.payloads = [];
    this.events = [];
    return out;
  }

  receive(p: SrtPacket, now: number): void {
    if (this.closed) return;
    this.lastRecvAt = now;
    if (p.control) this.onControl(p, now);
    else this.onData(p, now);
  }

  /** Queues one payload (≤ the payload size) as one message, sent at once. */
  send(payload: Buffer, now: number): void {
    if (this.closed) return;
    const seq = this.sndNext;
    this.sndNext = seqInc(seq);
    const msg = this.msgNo;
    this.msgNo = this.msgNo >= 0x03ffffff ? 1 : this.msgNo + 1;
    const ts = now - this.o.startUs;
    const keyFlags = this.sendKeyFlags;
    const body = this.keys && keyFlags ? cryptPayload(this.keys, keyFlags, seq, payload) : payload;
    const packet = buildDataPacket({ seq, position: Position.SOLO, inOrder: false, keyFlags, retransmitted: false, messageNumber: msg, timestamp: tsWrap(ts), destSocket: this.o.peerSocketId, payload: body });
    this.sndBuf.set(seq, { packet, sentAt: now, ts, msg });
    // Live mode never blocks: past the buffer (or the peer's window) the oldest go.
    while (this.sndBuf.size > Math.min(this.o.sendBufferPackets, this.o.peerFlowWindow)) this.dropOldestSent(now, 1);
    this.emitData(packet, ts, now);
    this.stats.packetsSent++;
    this.stats.bytesSent += payload.length;
  }

  /** Runs the timers: delivery, ACK, periodic NAK, too-late drops, keepalive, idle timeout. */
  tick(now: number): void {
    if (this.closed) return;
    if (now - this.lastRecvAt > this.o.peerIdleTimeoutUs) {
      this.finish(`peer idle for ${Math.round((now - this.lastRecvAt) / 1000)} ms (peer_idle_timeout)`, true);
      return;
    }
    this.deliver(now);
    if (this.rate > 0) this.drainPaced(now);
    if (now >= this.nextAckAt) {
      this.nextAckAt = now + SYN_US;
      this.sendAck(now);
    }
    if (now >= this.nextNakAt) {
      // Capped at a quarter of the latency: a lost retransmission still gets a few more chances in time.
      this.nextNakAt = now + Math.max(MIN_NAK_US, Math.min((this.stats.rttUs + 4 * this.stats.rttVarUs) / 2, this.o.recvLatencyUs / 4));
      this.sendNak(now, [...this.loss.keys()]);
    }
    this.dropTooLate(now);
    if (now - this.lastSentAt >= KEEPALIVE_US) this.control(ControlType.KEEPALIVE, 0, now, Buffer.alloc(4));
    if (now - this.rateWindowStart >= 1_000_000) {
      const secs = (now - this.rateWindowStart) / 1e6;
      this.pps = Math.round(this.recvCount / secs);
      this.bps = Math.round(this.recvBytesWindow / secs);
      this.recvCount = 0;
      this.recvBytesWindow = 0;
      this.rateWindowStart = now;
    }
    this.stats.recvBufferPackets = this.rcvBuf.size;
    this.stats.sendBufferPackets = this.sndBuf.size;
    this.stats.lossListSize = this.loss.size;
  }

  /** Ends the connection, telling the peer (SHUTDOWN). */
  close(reason: string, now: number): void {
    if (this.closed) return;
    this.control(ControlType.SHUTDOWN, 0, now, Buffer.alloc(4));
    this.finish(reason, false);
  }

  private finish(reason: string, notifyPeer: boolean): void {
    if (this.closed) return;
    this.closed = true;
    void notifyPeer;
    this.rcvBuf.clear();
    this.sndBuf.clear();
    this.paced.length = 0;
    this.pacedHead = 0;
    this.loss.clear();
    this.events.push({ type: 'closed', reason });
  }

  private emit(packet: Buffer, now: number): void {
    this.packets.push(packet);
    this.lastSentAt = now;
  }

  /** A data packet (`ts`: its timestamp, µs since our start): sent now, or queued behind the maxbw pacer. */
  private emitData(packet: Buffer, ts: number, now: number): void {
    if (this.rate === 0) return this.emit(packet, now);
    this.refill(now);
    if (this.pacedPackets === 0 && this.credit >= packet.length) {
      this.credit -= packet.length;
      return this.emit(packet, now);
    }
    this.paced.push({ packet, ts });
    // Live mode: what waits longer than the send buffer holds is stale; the oldest go.
    const cap = Math.max(32, this.o.sendBufferPackets);
    if (this.pacedPackets > cap) {
      this.pacedHead++;
      this.stats.packetsSendDropped++;
    }
  }

  private refill(now: number): void {
    this.credit = Math.min(this.burst, this.credit + ((now - this.creditAt) * this.rate) / 1e6);
    this.creditAt = now;
  }

  private drainPaced(now: number): void {
    if (this.pacedPackets === 0) return;
    this.refill(now);
    // A packet that would reach the peer after its latency is played past is dropped there (too-late
    // drop): skip it here, so the bandwidth goes to packets that can still play.
    const stale = now - this.o.startUs - this.o.sendLatencyUs;
    while (this.pacedHead < this.paced.length) {
      const { packet, ts } = this.paced[this.pacedHead]!;
      if (this.o.tlpktdrop && ts < stale) {
        this.pacedHead++;
        this.stats.packetsSendDropped++;
        continue;
      }
      if (this.credit < packet.length) break;
      this.credit -= packet.length;
      this.pacedHead++;
      this.emit(packet, now);
    }
    if (this.pacedHead === this.paced.length) {
      this.paced.length = 0;
      this.pacedHead = 0;
    } else if (this.pacedHead > 1024) {
      this.paced.splice(0, this.pacedHead);
      this.pacedHead = 0;
    }
  }

  private control(type: number, info: number, now: number, body: Buffer | null): void {
    this.emit(buildControlPacket(type, info, tsWrap(now - this.o.startUs), this.o.peerSocketId, body), now);
  }

  // ---------------------------------------------------------------- receive

  private unwrapTs(ts: number): number {
    if (this.lastTs < 0) {
      this.lastTs = ts;
      this.tsUnwrapped = ts;
      return ts;
    }
    const d = (ts - this.lastTs) | 0;
    this.lastTs = ts;
    this.tsUnwrapped += d;
    return this.tsUnwrapped;
  }

  private onData(p: SrtDataPacket, now: number): void {
    const s = p.seq;
    const ahead = seqDiff(this.rcvNext, s);
    this.stats.packetsReceived++;
    this.recvCount++;
    this.recvBytesWindow += p.payload.length;
    if (p.retransmitted) this.stats.packetsRetransmittedIn++;
    if (ahead < 0) {
      this.stats.packetsBelated++;
      return;
    }
    if (ahead >= this.o.recvBufferPackets) {
      this.stats.packetsDropped++;
      return;
    }
    if (this.rcvBuf.has(s)) return;
    let payload = p.payload;
    if (p.keyFlags !== 0) {
      if (!this.keys) return;
      try {
        payload = cryptPayload(this.keys, p.keyFlags, s, payload);
      } catch {
        return;
      }
    } else payload = Buffer.from(payload);
    const ts = this.unwrapTs(p.timestamp);
    if (this.tsBase === null) this.tsBase = now - ts;
    this.rcvBuf.set(s, { payload, ts });
    this.stats.bytesReceived += payload.length;
    const beyond = seqDiff(this.rcvHighest, s);
    if (beyond > 0) {
      if (beyond > 1) {
        const from = seqInc(this.rcvHighest);
        const to = seqInc(s, -1);
        for (let q = from; q !== s; q = seqInc(q)) this.loss.set(q, now);
        this.stats.packetsLost += beyond - 1;
        this.sendNakRanges(now, [{ from, to }]);
      }
      this.rcvHighest = s;
    } else this.loss.delete(s);
    this.deliver(now);
  }

  private playTime(slot: RecvSlot): number {
    return (this.tsBase ?? 0) + slot.ts + this.o.recvLatencyUs;
  }

  private deliver(now: number): void {
    for (;;) {
      const head = this.rcvBuf.get(this.rcvNext);
      if (head) {
        if (this.o.tsbpd && head.payload !== null && this.playTime(head) > now) return;
        this.rcvBuf.delete(this.rcvNext);
        this.loss.delete(this.rcvNext);
        if (head.payload) this.payloads.push(head.payload);
        this.rcvNext = seqInc(this.rcvNext);
        continue;
      }
      if (!this.o.tsbpd || !this.o.tlpktdrop || this.rcvBuf.size === 0) return;
      // A hole at the head: skip it when the first packet after it is due.
      let q = this.rcvNext;
      let next: RecvSlot | undefined;
      const span = seqDiff(this.rcvNext, this.rcvHighest);
      for (let i = 0; i <= span && !next; i++, q = seqInc(q)) next = this.rcvBuf.get(q);
      if (!next) return;
      q = seqInc(q, -1);
      if (next.payload !== null && this.playTime(next) > now) return;
      const skipped = seqDiff(this.rcvNext, q);
      for (let r = this.rcvNext; r !== q; r = seqInc(r)) this.loss.delete(r);
      this.stats.packetsDropped += skipped;
      this.rcvNext = q;
    }
  }

  private ackSeq(): number {
    if (seqDiff(this.ackCursor, this.rcvNext) > 0) this.ackCursor = this.rcvNext;
    while (this.rcvBuf.has(this.ackCursor)) this.ackCursor = seqInc(this.ackCursor);
    return this.ackCursor;
  }

  private sendAck(now: number): void {
    const ack = this.ackSeq();
    if (ack === this.lastAckSent) return;
    this.lastAckSent = ack;
    this.ackNumber = this.ackNumber >= SEQ_MAX ? 1 : this.ackNumber + 1;
    this.ackSentAt.set(this.ackNumber, now);
    if (this.ackSentAt.size > MAX_ACK_HISTORY) this.ackSentAt.delete(this.ackSentAt.keys().next().value!);
    const body = buildAckBody({
      lastAck: ack,
      rttUs: this.stats.rttUs,
      rttVarUs: this.stats.rttVarUs,
      availableBuffer: Math.max(2, this.o.recvBufferPackets - this.rcvBuf.size),
      packetsPerSecond: this.pps,
      capacity: Math.max(this.pps, 1000),
      bytesPerSecond: this.bps,
    });
    this.control(ControlType.ACK, this.ackNumber, now, body);
  }

  private sendNak(now: number, seqs: number[]): void {
    if (seqs.length === 0) return;
    seqs.sort((a, b) => seqDiff(b, a));
    const ranges: LossRange[] = [];
    for (const s of seqs) {
      const last = ranges[ranges.length - 1];
      if (last && seqInc(last.to) === s) last.to = s;
      else ranges.push({ from: s, to: s });
    }
    for (const s of seqs) this.loss.set(s, now);
    this.sendNakRanges(now, ranges);
  }

  private sendNakRanges(now: number, ranges: LossRange[]): void {
    const fit: LossRange[] = [];
    let words = 0;
    for (const r of ranges) {
      const w = r.from === r.to ? 1 : 2;
      if (words + w > MAX_NAK_WORDS) break;
      words += w;
      fit.push(r);
    }
    this.control(ControlType.NAK, 0, now, buildLossList(fit));
  }

  // ---------------------------------------------------------------- control

  private onControl(p: SrtControlPacket, now: number): void {
    switch (p.type) {
      case ControlType.ACK:
        return this.onAck(p, now);
      case ControlType.ACKACK:
        return this.onAckAck(p.info, now);
      case ControlType.NAK:
        return this.onNak(p.body, now);
      case ControlType.DROPREQ:
        return this.onDropRequest(p.body, now);
      case ControlType.SHUTDOWN:
        return this.finish('peer shut down', false);
      case ControlType.USER:
        if (p.subtype === CMD_KMREQ) this.onKeyRefresh(p.body, now);
        return;
      default:
        return; // KEEPALIVE (counted as life above), congestion warnings, user types
    }
  }

  /** The peer's new key material: take its keys (keeping a key it no longer carries, for packets still in flight) and answer. */
  private onKeyRefresh(body: Buffer, now: number): void {
    if (!this.keys || this.o.passphrase === undefined) return;
    if (this.lastKm?.equals(body)) return this.answerKeyRefresh(body, now);
    if (now - this.lastRekeyAt < MIN_REKEY_US) return;
    this.lastRekeyAt = now;
    let fresh: StreamKeys | null;
    try {
      fresh = unwrapKeys(parseKeyMaterial(body), this.o.passphrase);
    } catch {
      fresh = null;
    }
    // One salt serves both keys: a key alone may join the one kept only under the same salt.
    const both = fresh !== null && fresh.even !== null && fresh.odd !== null;
    if (!fresh || fresh.keyLength !== this.keys.keyLength || (!both && !fresh.salt.equals(this.keys.salt))) {
      const refusal = Buffer.alloc(4);
      refusal.writeUInt32BE(KM_BADSECRET, 0);
      return this.answerKeyRefresh(refusal, now);
    }
    this.keys = both ? fresh : { ...this.keys, even: fresh.even ?? this.keys.even, odd: fresh.odd ?? this.keys.odd };
    this.lastKm = Buffer.from(body);
    this.answerKeyRefresh(this.lastKm, now);
  }

  private answerKeyRefresh(body: Buffer, now: number): void {
    this.emit(buildControlPacket(ControlType.USER, 0, tsWrap(now - this.o.startUs), this.o.peerSocketId, body, CMD_KMRSP), now);
  }

  private onAck(p: SrtControlPacket, now: number): void {
    let a;
    try {
      a = parseAck(p.body);
    } catch {
      return;
    }
    // Full ACKs are answered so the peer measures the RTT; light ACKs (4 bytes) are not.
    if (p.body.length >= 16) this.control(ControlType.ACKACK, p.info, now, Buffer.alloc(4));
    if (a.rttUs !== undefined && a.rttUs > 0) {
      this.stats.rttUs = a.rttUs;
      this.stats.rttVarUs = a.rttVarUs ?? this.stats.rttVarUs;
    }
    const advance = seqDiff(this.sndAcked, a.lastAck);
    if (advance <= 0 || seqDiff(a.lastAck, this.sndNext) < 0) return;
    for (let s = this.sndAcked; s !== a.lastAck; s = seqInc(s)) this.sndBuf.delete(s);
    this.sndAcked = a.lastAck;
  }

  private onAckAck(ackNo: number, now: number): void {
    const sentAt = this.ackSentAt.get(ackNo);
    if (sentAt === undefined) return;
    this.ackSentAt.delete(ackNo);
    const sample = now - sentAt;
    const st = this.stats;
    st.rttVarUs = Math.round((3 * st.rttVarUs + Math.abs(st.rttUs - sample)) / 4);
    st.rttUs = Math.round((7 * st.rttUs + sample) / 8);
  }

  private onNak(body: Buffer, now: number): void {
    let ranges;
    try {
      ranges = parseLossList(body);
    } catch {
      return;
    }
    let sent = 0;
    for (const r of ranges) {
      const len = seqDiff(r.from, r.to);
      if (len < 0 || len > MAX_REXMIT_PER_NAK) continue;
      for (let s = r.from, i = 0; i <= len && sent < MAX_REXMIT_PER_NAK; i++, s = seqInc(s)) {
        const slot = this.sndBuf.get(s);
        if (!slot) continue;
        slot.packet[4] = slot.packet[4]! | 0x04; // R: retransmitted
        slot.sentAt = now;
        this.emitData(slot.packet, slot.ts, now);
        this.stats.packetsRetransmitted++;
        sent++;
      }
    }
  }

  private onDropRequest(body: Buffer, now: number): void {
    let r;
    try {
      r = parseDropRequest(body);
    } catch {
      return;
    }
    this.stats.dropRequestsIn++;
    const len = seqDiff(r.from, r.to);
    if (len < 0 || len > this.o.recvBufferPackets) return;
    for (let s = r.from, i = 0; i <= len; i++, s = seqInc(s)) {
      this.loss.delete(s);
      const ahead = seqDiff(this.rcvNext, s);
      if (ahead >= 0 && ahead < this.o.recvBufferPackets && !this.rcvBuf.has(s)) this.rcvBuf.set(s, { payload: null, ts: 0 });
    }
    if (seqDiff(this.rcvHighest, r.to) > 0) this.rcvHighest = r.to;
    this.deliver(now);
  }

  // ---------------------------------------------------------------- send side timers

  private dropTooLate(now: number): void {
    if (!this.o.tlpktdrop || this.sndBuf.size === 0) return;
    const limit = Math.max(1_000_000, Math.round(this.o.sendLatencyUs * 1.25) + 2 * SYN_US);
    let n = 0;
    for (const slot of this.sndBuf.values()) {
      if (now - this.o.startUs - slot.ts <= limit) break;
      n++;
    }
    if (n > 0) this.dropOldestSent(now, n);
  }

  private dropOldestSent(now: number, n: number): void {
    const from = this.sndAcked;
    let to = from;
    let msg = 0;
    for (let i = 0; i < n && this.sndBuf.size > 0; i++) {
      const slot = this.sndBuf.get(this.sndAcked);
      if (slot) msg = slot.msg;
      this.sndBuf.delete(this.sndAcked);
      to = this.sndAcked;
      this.sndAcked = seqInc(this.sndAcked);
      this.stats.packetsSendDropped++;
    }
    this.control(ControlType.DROPREQ, msg, now, buildDropRequestBody({ from, to }));
  }
}
