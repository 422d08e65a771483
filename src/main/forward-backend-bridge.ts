/**
 * The forward backend's HTTP call (`forward.backend`, SRS's on_forward) made
 * with the hooks' client and judged by SRS's callback rule, so that the
 * forward wing does not import the hooks wing. The exporter sees it as the
 * `on_forward` hook.
 */
import type { ForwardBackendCall } from '../outputs/forward/forward-backend.js';
import type { HttpHooks } from '../ops/hooks/http-hooks.js';
import { hookRequest } from '../ops/hooks/hook-client.js';
import { judgeHookResponse } from '../ops/hooks/hook-response.js';

export function forwardBackendCall(hooks: HttpHooks): ForwardBackendCall {
  return async (url, body) => {
    const started = performance.now();
    let ok = false;
    try {
      const reply = await hookRequest(url, { body, timeoutMs: hooks.timeoutMs });
      const verdict = judgeHookResponse(reply.status, reply.body);
      if (!verdict.ok) throw new Error(`backend refused: ${verdict.reason} (${verdict.code})`);
      ok = true;
      return JSON.parse(reply.body) as unknown;
    } finally {
      hooks.observer?.('on_forward', (performance.now() - started) / 1000, ok);
    }
  };
}
