/** A datagram that is not a well-formed SRT packet: the server drops it and counts it. */
export class SrtError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SrtError';
  }
}
