/** Bad bytes from a server under test, or a bench misuse: one typed error for the load generator. */
export class BenchError extends Error {
  override readonly name = 'BenchError';
}
