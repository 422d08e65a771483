import { AMF_COMMAND_LIMITS, AmfError, decodeAmf0, encodeAmf0, Amf0EcmaArray } from '../../src/format/amf0.js';
import { flvTags } from '../corpus.js';
import { type FuzzTarget } from '../harness.js';

function corpus(): Buffer[] {
  const ecma = new Amf0EcmaArray({ duration: 0, width: 160, encoder: 'Lavf' });
  const out = [
    encodeAmf0(['connect', 1, { app: 'live', tcUrl: 'rtmp://h/live', fpad: false, capabilities: 15, nested: { a: [1, 'x', null, undefined] } }]),
    encodeAmf0(['_result', 2, null, 1]),
    encodeAmf0(['onMetaData', ecma, new Date(0)]),
    // AMF3 values behind the 0x11 switch marker: ints, a double, strings and a string reference.
    Buffer.from('1100110111021103 11047f 11048100 1104ffffffff 1105 3ff0000000000000 1106 07616263 1106 00 1106 01'.replace(/ /g, ''), 'hex'),
  ];
  // Script tags of the fixtures: real onMetaData from ffmpeg.
  for (const t of flvTags()) if (t.type === 18) out.push(t.body);
  return out;
}

export const amf0: FuzzTarget = {
  name: 'amf0-amf3',
  errors: [AmfError],
  corpus,
  run(input) {
    decodeAmf0(input);
    // The command limits are what an RTMP peer meets before it publishes.
    decodeAmf0(input, Infinity, AMF_COMMAND_LIMITS);
  },
};
