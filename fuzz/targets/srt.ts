import { SrtError } from '../../src/protocol/srt/srt-error.js';
import { ControlType, parseAck, parseDropRequest, parseLossList, parsePacket } from '../../src/protocol/srt/srt-packet.js';
import { ExtType, parseHandshake, parseHsExt, parseStreamIdExt } from '../../src/protocol/srt/srt-handshake.js';
import { parseKeyMaterial } from '../../src/protocol/srt/srt-key-material.js';
import { SrtListener } from '../../src/protocol/srt/srt-listener.js';
import { samplePackets } from '../../test/helpers/srt-packets.js';
import { type FuzzTarget } from '../harness.js';

const listener = new SrtListener(42, () => 0);

/** Every SRT datagram parser, and the listener's handshake state machine, on one datagram. */
export const srtPacket: FuzzTarget = {
  name: 'srt-packet',
  errors: [SrtError],
  corpus: samplePackets,
  run(input) {
    const p = parsePacket(input);
    if (!p.control) return;
    switch (p.type) {
      case ControlType.HANDSHAKE: {
        const hs = parseHandshake(p.body);
        for (const e of hs.extensions) {
          if (e.type === ExtType.HSREQ) parseHsExt(e.contents);
          else if (e.type === ExtType.SID) parseStreamIdExt(e.contents);
          else if (e.type === ExtType.KMREQ) parseKeyMaterial(e.contents);
        }
        listener.handle(hs, p.timestamp, '127.0.0.1:9', 0);
        return;
      }
      case ControlType.ACK:
        parseAck(p.body);
        return;
      case ControlType.NAK:
        parseLossList(p.body);
        return;
      case ControlType.DROPREQ:
        parseDropRequest(p.body);
        return;
    }
  },
};
