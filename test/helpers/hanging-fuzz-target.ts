// A fuzz target whose 100th input never returns: the watchdog's test subject.
import type { FuzzTarget } from '../../fuzz/harness.js';

let calls = 0;
export const TARGETS: readonly FuzzTarget[] = [
  {
    name: 'hangs-at-100',
    errors: [],
    corpus: () => [Buffer.from('hello')],
    run() {
      calls++;
      if (calls === 100) for (;;);
    },
  },
];
