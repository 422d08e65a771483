/** Raised by every codec parser on malformed or truncated input. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}
