/**
 * The RTP form of a frame, one more serialized form in the frame's wire
 * slots: a video frame's RTP packets are made once per frame, whatever
 * number of RTP egresses and players take them. Players rewrite a shared
 * packet's header for themselves just before handing it to libdatachannel,
 * which copies it synchronously (rtc-play-session.ts).
 */
import { WireFormat } from '../../codec/wire-format.js';

/** A video frame as RTP packets (empty when the frame is not sent, e.g. a dropped B frame). */
export const RTP_VIDEO = new WireFormat<readonly Buffer[]>('rtp-video');
