import { randomBytes } from 'node:crypto';
import { bindingSuccess, looksLikeStun, parseStun, verifyIntegrity } from '../../src/protocol/stun/stun-message.js';
import { parseRtpHeader, writeRtpHeader, RTP_HEADER_SIZE } from '../../src/protocol/rtp/rtp-packet.js';
import { buildNack, buildPli, buildRemb, buildRr, buildSr, parseRtcp } from '../../src/protocol/rtp/rtcp.js';
import { parseSdp } from '../../src/protocol/rtp/sdp.js';
import { RtpError } from '../../src/protocol/rtp/rtp-error.js';
import { bindingRequest } from '../../test/helpers/stun-request.js';
import { type FuzzTarget } from '../harness.js';

export const stun: FuzzTarget = {
  name: 'stun',
  // parseStun documents null for anything that is not a well-formed message: it throws nothing.
  errors: [],
  corpus: () => [
    bindingRequest({ username: 'srvU:cliU', password: 'pw', useCandidate: true }),
    bindingRequest({ username: 'a:b', password: 'pw' }),
    bindingSuccess(randomBytes(12).toString('hex'), { address: '127.0.0.1', port: 5000 }, 'pw'),
    bindingSuccess(randomBytes(12).toString('hex'), { address: '::1', port: 5000 }, 'pw'),
  ],
  run(input) {
    looksLikeStun(input);
    const m = parseStun(input);
    if (m) verifyIntegrity(input, m, 'pw');
  },
};

function rtpPacket(ext: boolean, pad: number, payload: number): Buffer {
  const extBytes = ext ? Buffer.from('bede0001 10ff0000'.replace(/ /g, ''), 'hex') : Buffer.alloc(0);
  const b = Buffer.alloc(RTP_HEADER_SIZE + extBytes.length + payload + pad, 0x5a);
  writeRtpHeader(b, 96, 1234, 90000, 0x11223344, true);
  if (ext) b[0]! |= 0x10;
  extBytes.copy(b, RTP_HEADER_SIZE);
  if (pad > 0) {
    b[0]! |= 0x20;
    b[b.length - 1] = pad;
  }
  return b;
}

export const rtp: FuzzTarget = {
  name: 'rtp',
  errors: [RtpError],
  corpus: () => [rtpPacket(false, 0, 100), rtpPacket(true, 0, 40), rtpPacket(true, 4, 20), rtpPacket(false, 3, 1)],
  run(input) {
    parseRtpHeader(input);
  },
};

export const rtcp: FuzzTarget = {
  name: 'rtcp',
  errors: [RtpError],
  corpus: () => {
    const sr = buildSr(1, 1_700_000_000_000, 90000, 10, 1000);
    const rr = buildRr(2, [{ ssrc: 1, fractionLost: 0, cumulativeLost: 0, extendedHighestSeq: 100, jitter: 3, lastSr: 0, delaySinceLastSr: 0 }]);
    return [sr, rr, buildPli(2, 1), buildNack(2, 1, [1, 2, 3, 40, 41]), buildRemb(2, 1_000_000, [1, 3]), Buffer.concat([sr, rr, buildPli(2, 1)])];
  },
  run(input) {
    parseRtcp(input);
  },
};

const OFFER = [
  'v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=msid-semantic: WMS',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63', 'c=IN IP4 0.0.0.0', 'a=ice-ufrag:Ab12', 'a=ice-pwd:abcdefghijklmnopqrstuv', 'a=mid:0', 'a=sendonly', 'a=rtcp-mux',
  'a=fingerprint:sha-256 00:11:22:33', 'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=ssrc:1111 cname:x', 'a=candidate:1 1 UDP 2122260223 10.0.0.1 5000 typ host',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 102', 'c=IN IP4 0.0.0.0', 'a=mid:1', 'a=sendonly', 'a=rtcp-mux',
  'a=rtpmap:96 VP8/90000', 'a=rtpmap:102 H264/90000', 'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=ssrc-group:FID 2222 3333', 'a=ssrc:2222 cname:x', '',
].join('\r\n');

export const sdp: FuzzTarget = {
  name: 'sdp',
  errors: [RtpError],
  corpus: () => [Buffer.from(OFFER), Buffer.from(OFFER.replace(/\r\n/g, '\n'))],
  run(input) {
    // Offers arrive as HTTP bodies decoded as UTF-8.
    parseSdp(input.toString('utf8'));
  },
};
