/** SRT packets as a libsrt caller sends them, for unit tests and the fuzz corpus. */
import { ControlType, buildAckBody, buildControlPacket, buildDataPacket, buildDropRequestBody, buildLossList, Position } from '../../src/protocol/srt/srt-packet.js';
import { ExtType, HandshakeType, HsExtFlag, SrtFlag, buildHandshake, buildHsExt, buildStreamIdExt, type Handshake } from '../../src/protocol/srt/srt-handshake.js';
import { buildKeyMaterial, newKeyMaterial } from '../../src/protocol/srt/srt-key-material.js';

export const CALLER_SOCKET = 0x1234567;

export function induction(socketId = CALLER_SOCKET): Buffer {
  const hs: Handshake = { version: 4, encryption: 0, extensionField: 2, initialSeq: 1000, mtu: 1500, flowWindow: 8192, type: HandshakeType.INDUCTION, socketId, cookie: 0, peerIp: Buffer.alloc(16), extensions: [] };
  return buildControlPacket(ControlType.HANDSHAKE, 0, 100, 0, buildHandshake(hs));
}

export function conclusion(cookie: number, streamId: string, opts: { passphrase?: string; latencyMs?: number; version?: number } = {}): Buffer {
  const extensions: { type: number; contents: Buffer }[] = [
    { type: ExtType.HSREQ, contents: buildHsExt({ srtVersion: 0x010501, flags: SrtFlag.TSBPDSND | SrtFlag.TSBPDRCV | SrtFlag.CRYPT | SrtFlag.TLPKTDROP | SrtFlag.PERIODICNAK | SrtFlag.REXMITFLG, recvLatencyMs: opts.latencyMs ?? 120, sendLatencyMs: opts.latencyMs ?? 120 }) },
    { type: ExtType.SID, contents: buildStreamIdExt(streamId) },
  ];
  let flags: number = HsExtFlag.HSREQ | HsExtFlag.CONFIG;
  if (opts.passphrase) {
    extensions.push({ type: ExtType.KMREQ, contents: buildKeyMaterial(newKeyMaterial(opts.passphrase, 16).km) });
    flags |= HsExtFlag.KMREQ;
  }
  const hs: Handshake = { version: opts.version ?? 5, encryption: 0, extensionField: flags, initialSeq: 1000, mtu: 1500, flowWindow: 8192, type: HandshakeType.CONCLUSION, socketId: CALLER_SOCKET, cookie, peerIp: Buffer.alloc(16), extensions };
  return buildControlPacket(ControlType.HANDSHAKE, 0, 200, 0, buildHandshake(hs));
}

export function samplePackets(): Buffer[] {
  return [
    induction(),
    conclusion(0xdeadbeef, '#!::r=live/livestream,m=publish,token=abc'),
    conclusion(0xdeadbeef, '#!::r=live/s,m=request', { passphrase: 'sluice-secret' }),
    buildDataPacket({ seq: 1000, position: Position.SOLO, inOrder: false, keyFlags: 0, retransmitted: false, messageNumber: 1, timestamp: 5000, destSocket: 77, payload: Buffer.alloc(1316, 0x47) }),
    buildControlPacket(ControlType.ACK, 3, 6000, 77, buildAckBody({ lastAck: 1001, rttUs: 10_000, rttVarUs: 5_000, availableBuffer: 8000, packetsPerSecond: 400, capacity: 1000, bytesPerSecond: 500_000 })),
    buildControlPacket(ControlType.ACK, 0, 6000, 77, Buffer.from([0, 0, 3, 0xe9])),
    buildControlPacket(ControlType.ACKACK, 3, 6100, 77, Buffer.alloc(4)),
    buildControlPacket(ControlType.NAK, 0, 6200, 77, buildLossList([{ from: 1003, to: 1003 }, { from: 1005, to: 1010 }])),
    buildControlPacket(ControlType.DROPREQ, 4, 6300, 77, buildDropRequestBody({ from: 1003, to: 1004 })),
    buildControlPacket(ControlType.KEEPALIVE, 0, 6400, 77, Buffer.alloc(4)),
    buildControlPacket(ControlType.SHUTDOWN, 0, 6500, 77, Buffer.alloc(4)),
  ];
}
