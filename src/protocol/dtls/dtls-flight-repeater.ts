/**
 * Resends a DTLS handshake flight faster than libdatachannel does.
 *
 * libdatachannel's OpenSSL resends a lost flight after 1 s, then 2 s, 4 s
 * (RFC 6347's initial timer), and JavaScript cannot change that. Under
 * heavy loss the handshake then takes longer than the 5 s SRS's tests
 * (and impatient players) allow. Whoever relays the datagrams can keep the
 * last flight sent towards the peer and send the same bytes again on a
 * faster schedule until the peer answers. That is safe: the copies are
 * byte-identical (same record sequence numbers), so a peer that already
 * has them drops them in its replay window (RFC 6347 §4.1.2.6), and a
 * peer that looks at the handshake sees an old message_seq and at most
 * resends its own last flight, which DTLS allows at any time.
 *
 * Sans-IO: the caller passes every datagram it relays (and its clock),
 * calls poll() at nextAt and sends what it returns. Once media flows
 * (an SRTP/SRTCP datagram either way) the handshake is over: `done`.
 */

/** Waits before each resend of an unanswered flight (ms): resends at 0.1, 0.3, 0.7, 1.5, 3.1 s. */
const DTLS_RESEND_MS: readonly number[] = [100, 200, 400, 800, 1600];
/** At most this many datagrams are kept for one flight (a certificate chain fits in a few). */
const MAX_FLIGHT_DATAGRAMS = 8;
/** Nothing is resent after this many flight resends in all (a peer that never answers). */
const MAX_RESENDS = 24;

const CT_CHANGE_CIPHER_SPEC = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;

/** Whether a datagram is DTLS by its first byte (RFC 7983: 20–63). */
export function isDtlsDatagram(d: Uint8Array): boolean {
  return d.length >= 13 && d[0]! >= 20 && d[0]! <= 63;
}

/** Whether a datagram is RTP/RTCP, i.e. SRTP/SRTCP on a WebRTC port (RFC 7983: 128–191). */
function isRtpDatagram(d: Uint8Array): boolean {
  return d.length > 0 && d[0]! >= 128 && d[0]! <= 191;
}

export interface DtlsRecordSummary {
  /** message_seq of each epoch-0 handshake record (in order). */
  handshakeSeqs: number[];
  /** Handshake message types of those records (1 ClientHello, 2 ServerHello, 11 Certificate ...). */
  handshakeTypes: number[];
  /** A ChangeCipherSpec or a record of epoch ≥ 1 (an encrypted Finished, or later data). */
  cipherChange: boolean;
  alert: boolean;
  /** The records did not tile the datagram exactly (truncated or not DTLS). */
  malformed: boolean;
}

/** What the records of one DTLS datagram are (RFC 6347 §4.1 record, §4.2.2 handshake headers). */
export function summarizeDtls(d: Uint8Array): DtlsRecordSummary {
  const s: DtlsRecordSummary = { handshakeSeqs: [], handshakeTypes: [], cipherChange: false, alert: false, malformed: false };
  let o = 0;
  while (o < d.length) {
    if (o + 13 > d.length) {
      s.malformed = true;
      break;
    }
    const type = d[o]!;
    const epoch = (d[o + 3]! << 8) | d[o + 4]!;
    const len = (d[o + 11]! << 8) | d[o + 12]!;
    if (o + 13 + len > d.length) {
      s.malformed = true;
      break;
    }
    if (epoch > 0 || type === CT_CHANGE_CIPHER_SPEC) s.cipherChange = true;
    else if (type === CT_ALERT) s.alert = true;
    else if (type === CT_HANDSHAKE && len >= 12) {
      s.handshakeTypes.push(d[o + 13]!);
      s.handshakeSeqs.push((d[o + 17]! << 8) | d[o + 18]!);
    }
    o += 13 + len;
  }
  return s;
}

export class DtlsFlightRepeater {
  /** The handshake is over (or given up): nothing more to watch. */
  done = false;
  /** Flights resent so far. */
  resends = 0;
  private flight: Buffer[] = [];
  /** Highest handshake message_seq in the current flight. */
  private flightMaxSeq = -1;
  /** The peer answered since our last datagram: our next datagram starts a new flight. */
  private answered = true;
  private attempt = 0;
  private dueAt = Infinity;
  /** Highest handshake message_seq seen from the peer: a lower one is its retransmission, not an answer. */
  private peerMaxSeq = -1;

  constructor(private readonly schedule: readonly number[] = DTLS_RESEND_MS) {}

  /** When poll() has something to send (Infinity: nothing waits). */
  get nextAt(): number {
    return this.done ? Infinity : this.dueAt;
  }

  /** A datagram sent towards the peer (not STUN). */
  sent(d: Buffer, now: number): void {
    if (this.done) return;
    if (isRtpDatagram(d)) return this.finish();
    if (!isDtlsDatagram(d)) return;
    const s = summarizeDtls(d);
    if (s.malformed) return;
    if (s.alert && s.handshakeSeqs.length === 0) return this.finish();
    const continues = !this.answered && this.flight.length > 0;
    if (s.handshakeSeqs.length === 0) {
      // CCS + Finished alone: the tail of the current flight, or (as DTLS server) the last flight, which gets no answer.
      if (continues && this.flight.length < MAX_FLIGHT_DATAGRAMS) this.flight.push(d);
      else this.stop();
      return;
    }
    const first = Math.min(...s.handshakeSeqs);
    if (continues && first > this.flightMaxSeq && this.flight.length < MAX_FLIGHT_DATAGRAMS) {
      this.flight.push(d);
    } else {
      // A new flight, or libdatachannel's own resend of this one (new record numbers, same messages): start over from it.
      this.flight = [d];
      this.flightMaxSeq = -1;
      this.attempt = 0;
    }
    this.flightMaxSeq = Math.max(this.flightMaxSeq, ...s.handshakeSeqs);
    this.answered = false;
    this.dueAt = now + this.schedule[this.attempt]!;
  }

  /** A datagram from the peer (not STUN). */
  received(d: Buffer, _now: number): void {
    if (this.done) return;
    if (isRtpDatagram(d)) return this.finish();
    if (!isDtlsDatagram(d)) return;
    const s = summarizeDtls(d);
    if (s.malformed) return;
    const fresh = s.handshakeSeqs.some((q) => q > this.peerMaxSeq);
    if (s.handshakeSeqs.length) this.peerMaxSeq = Math.max(this.peerMaxSeq, ...s.handshakeSeqs);
    // The peer's resend of its previous flight says ours was lost: keep resending ours.
    if (fresh || s.cipherChange || s.alert) {
      this.answered = true;
      this.stop();
    }
  }

  /** The datagrams to send again now (none before nextAt). */
  poll(now: number): readonly Buffer[] {
    if (this.done || now < this.dueAt || this.flight.length === 0) return [];
    if (this.resends >= MAX_RESENDS) {
      this.finish();
      return [];
    }
    this.resends++;
    this.attempt++;
    const flight = this.flight;
    if (this.attempt < this.schedule.length) this.dueAt = now + this.schedule[this.attempt]!;
    else this.stop(); // libdatachannel's own timer goes on from here
    return flight;
  }

  private stop(): void {
    this.flight = [];
    this.dueAt = Infinity;
  }

  private finish(): void {
    this.stop();
    this.done = true;
  }
}
