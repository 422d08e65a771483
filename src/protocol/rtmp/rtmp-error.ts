/**
 * The one error type of the RTMP protocol layer. `code` tells what went wrong
 * so the session can log it and drop the connection:
 * - 'handshake': bad version byte or broken handshake
 * - 'chunk': malformed chunk stream
 * - 'amf': undecodable command/data message
 * - 'limit': a declared size or count beyond our limits
 * - 'protocol': well-formed bytes that break the RTMP rules
 */
export type RtmpErrorCode = 'handshake' | 'chunk' | 'amf' | 'limit' | 'protocol';

export class RtmpError extends Error {
  constructor(
    readonly code: RtmpErrorCode,
    message: string,
  ) {
    super(`rtmp ${code}: ${message}`);
    this.name = 'RtmpError';
  }
}
