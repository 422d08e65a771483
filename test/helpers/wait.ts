/**
 * Waiting for a condition instead of sleeping a guessed time: a busy machine
 * only makes the wait longer, never the test wrong.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    // Returns false rather than throwing: the caller's assertion then says what was missing.
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
