// Every parser fed by the network, in the order `npm run fuzz` runs them.
import { type FuzzTarget } from '../harness.js';
import { amf0 } from './amf0.js';
import { codecAudio, codecAv1, codecH264, codecHevc } from './codec.js';
import { config } from './config.js';
import { flvDemuxer, flvTagBody } from './flv.js';
import { mpegtsDemuxer, mpegtsFrames } from './mpegts.js';
import { rtmpChunkReader, rtmpServerConnection } from './rtmp-chunks.js';
import { rtmpHandshake } from './rtmp-handshake.js';
import { rtcp, rtp, sdp, stun } from './webrtc.js';
import { srtPacket } from './srt.js';

export const TARGETS: readonly FuzzTarget[] = [
  rtmpHandshake,
  rtmpChunkReader,
  rtmpServerConnection,
  amf0,
  flvDemuxer,
  flvTagBody,
  mpegtsDemuxer,
  mpegtsFrames,
  stun,
  rtp,
  rtcp,
  sdp,
  codecH264,
  codecHevc,
  codecAv1,
  codecAudio,
  config,
  srtPacket,
];
