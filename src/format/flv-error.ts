/** Raised by the FLV parsers and builders on malformed input. */
export class FlvError extends Error {
  override readonly name = 'FlvError';
}
