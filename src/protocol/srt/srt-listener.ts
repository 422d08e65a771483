/**
 * The listener side of the HSv5 caller–listener handshake, sans-IO. An
 * INDUCTION gets a SYN cookie (an HMAC of the peer address and the minute, so
 * nothing is stored for a caller that never comes back); a CONCLUSION with a
 * good cookie is parsed into a ConclusionRequest (HSREQ, stream id, key
 * material) for the server to admit or refuse, and answered with
 * conclusionResponse() or rejection().
 */
import { createHmac, randomBytes } from 'node:crypto';
import { SrtError } from './srt-error.js';
import { ControlType, buildControlPacket } from './srt-packet.js';
import {
  ExtType,
  HandshakeType,
  HsExtFlag,
  REJECT_BASE,
  SRT_MAGIC,
  SrtFlag,
  buildHandshake,
  buildHsExt,
  parseHsExt,
  parseStreamIdExt,
  type Handshake,
  type SrtHsExt,
} from './srt-handshake.js';
import { parseKeyMaterial, type KeyMaterial } from './srt-key-material.js';

const SRT_VERSION = 0x010501;

export interface ConclusionRequest {
  peer: string;
  callerSocketId: number;
  initialSeq: number;
  mtu: number;
  flowWindow: number;
  hsreq: SrtHsExt;
  streamId: string;
  /** The raw KMREQ contents and their parse, when the caller encrypts. */
  kmreq: Buffer | null;
  km: KeyMaterial | null;
  peerIp: Buffer;
  /** Caller's timestamp on the conclusion (µs of its clock). */
  timestamp: number;
}

export type ListenerResult =
  | { kind: 'reply'; packet: Buffer }
  | { kind: 'conclusion'; request: ConclusionRequest }
  | { kind: 'drop'; reason: string };

export interface AcceptParams {
  socketId: number;
  recvLatencyMs: number;
  sendLatencyMs: number;
  tlpktdrop: boolean;
  mtu: number;
  flowWindow: number;
  /** Echoed as KMRSP when the caller's key material was accepted. */
  kmrsp: Buffer | null;
}

export class SrtListener {
  private readonly secret = randomBytes(16);

  constructor(
    private readonly socketId: number,
    private readonly clockUs: () => number,
  ) {}

  cookie(peer: string, minute: number): number {
    return createHmac('sha256', this.secret).update(`${peer}|${minute}`).digest().readUInt32BE(0);
  }

  handle(hs: Handshake, timestamp: number, peer: string, nowMs: number): ListenerResult {
    const minute = Math.floor(nowMs / 60_000);
    if (hs.type === HandshakeType.INDUCTION) {
      if (hs.version !== 4 && hs.version !== 5) return { kind: 'drop', reason: `induction version ${hs.version}` };
      const reply: Handshake = {
        ...hs,
        version: 5,
        encryption: 0,
        extensionField: SRT_MAGIC,
        type: HandshakeType.INDUCTION,
        socketId: this.socketId,
        cookie: this.cookie(peer, minute),
        extensions: [],
      };
      return { kind: 'reply', packet: this.packet(reply, hs.socketId) };
    }
    if (hs.type !== HandshakeType.CONCLUSION) return { kind: 'drop', reason: `handshake type 0x${hs.type.toString(16)} (rendezvous is not supported)` };
    if (hs.cookie !== this.cookie(peer, minute) && hs.cookie !== this.cookie(peer, minute - 1)) return { kind: 'drop', reason: 'conclusion with a wrong SYN cookie' };
    if (hs.version !== 5) return { kind: 'drop', reason: `conclusion version ${hs.version} (HSv5 only)` };
    let hsreq: SrtHsExt | null = null;
    let streamId = '';
    let kmreq: Buffer | null = null;
    for (const e of hs.extensions) {
      if (e.type === ExtType.HSREQ) hsreq = parseHsExt(e.contents);
      else if (e.type === ExtType.SID) streamId = parseStreamIdExt(e.contents);
      else if (e.type === ExtType.KMREQ) kmreq = Buffer.from(e.contents);
    }
    if (!hsreq) return { kind: 'drop', reason: 'conclusion without HSREQ' };
    let km: KeyMaterial | null = null;
    if (kmreq) {
      try {
        km = parseKeyMaterial(kmreq);
      } catch (err) {
        if (!(err instanceof SrtError)) throw err;
        km = null;
      }
    }
    return {
      kind: 'conclusion',
      request: { peer, callerSocketId: hs.socketId, initialSeq: hs.initialSeq, mtu: hs.mtu, flowWindow: hs.flowWindow, hsreq, streamId, kmreq, km, peerIp: Buffer.from(hs.peerIp), timestamp },
    };
  }

  conclusionResponse(req: ConclusionRequest, a: AcceptParams): Buffer {
    const flags = SrtFlag.TSBPDSND | SrtFlag.TSBPDRCV | SrtFlag.CRYPT | SrtFlag.PERIODICNAK | SrtFlag.REXMITFLG | (a.tlpktdrop ? SrtFlag.TLPKTDROP : 0);
    const extensions: { type: number; contents: Buffer }[] = [{ type: ExtType.HSRSP, contents: buildHsExt({ srtVersion: SRT_VERSION, flags, recvLatencyMs: a.recvLatencyMs, sendLatencyMs: a.sendLatencyMs }) }];
    if (a.kmrsp) extensions.push({ type: ExtType.KMRSP, contents: a.kmrsp });
    const hs: Handshake = {
      version: 5,
      encryption: 0,
      extensionField: HsExtFlag.HSREQ | (a.kmrsp ? HsExtFlag.KMREQ : 0),
      initialSeq: req.initialSeq,
      mtu: a.mtu,
      flowWindow: a.flowWindow,
      type: HandshakeType.CONCLUSION,
      socketId: a.socketId,
      cookie: 0,
      peerIp: req.peerIp,
      extensions,
    };
    return this.packet(hs, req.callerSocketId);
  }

  /** A refusal the caller reports as its reason (SRT_REJ_* / SRT_REJX_*). */
  rejection(req: ConclusionRequest, reason: number): Buffer {
    const hs: Handshake = {
      version: 5,
      encryption: 0,
      extensionField: 0,
      initialSeq: req.initialSeq,
      mtu: req.mtu,
      flowWindow: req.flowWindow,
      type: REJECT_BASE + reason,
      socketId: this.socketId,
      cookie: 0,
      peerIp: req.peerIp,
      extensions: [],
    };
    return this.packet(hs, req.callerSocketId);
  }

  private packet(hs: Handshake, dest: number): Buffer {
    return buildControlPacket(ControlType.HANDSHAKE, 0, Math.floor(this.clockUs()) >>> 0, dest, buildHandshake(hs));
  }
}
