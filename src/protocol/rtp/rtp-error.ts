/** Raised by the RTP/RTCP/SDP/Ogg parsers on malformed or truncated input. */
export class RtpError extends Error {
  override readonly name = 'RtpError';
}
