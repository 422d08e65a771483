import { RtmpClientHandshake, RtmpServerHandshake, HANDSHAKE_SIZE } from '../../src/protocol/rtmp/handshake.js';
import { RtmpError } from '../../src/protocol/rtmp/rtmp-error.js';
import { pieces, type FuzzTarget } from '../harness.js';

/** C0C1 + C2 as our client sends them (simple and complex), then a few chunk bytes. */
function corpus(): Buffer[] {
  return [false, true].map((complex) => {
    const c = new RtmpClientHandshake(complex);
    return Buffer.concat([c.start(), Buffer.alloc(HANDSHAKE_SIZE, 7), Buffer.from('0300000000001914000000', 'hex')]);
  });
}

export const rtmpHandshake: FuzzTarget = {
  name: 'rtmp-handshake',
  errors: [RtmpError],
  corpus,
  run(input, splits) {
    const server = new RtmpServerHandshake();
    for (const p of pieces(input, splits)) server.feed(p);
    // The client side parses what a server sends (S0S1S2): the same bytes will do.
    const client = new RtmpClientHandshake(true);
    client.start();
    for (const p of pieces(input, splits)) client.feed(p);
  },
};
