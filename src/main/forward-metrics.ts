/**
 * The exporter's forward figures, registered on its registry here in the
 * composition root (the exporter and forward wings do not know each other).
 * Read when Prometheus scrapes; nothing is counted on the hot path.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ForwardService, ForwardTotals } from '../outputs/forward/forward-feature.js';

const STATES = ['connecting', 'forwarding', 'backoff'] as const;

export function registerForwardMetrics(registry: Registry, forwards: ForwardService): void {
  new Gauge({
    name: 'sluice_forwards',
    help: 'Forwards of the streams published now, by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = forwards.countByState();
      for (const s of STATES) this.set({ state: s }, counts.get(s) ?? 0);
    },
  });
  const counter = (name: string, help: string, pick: (t: ForwardTotals) => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(pick(forwards.totals()));
      },
    });
  };
  counter('sluice_forward_send_bytes_total', 'Bytes forwarded to destinations', (t) => t.sendBytes);
  counter('sluice_forward_reconnects_total', 'Forward connection attempts after the first', (t) => t.reconnects);
  counter('sluice_forward_frames_dropped_total', 'Frames dropped for destinations too slow for queue_length', (t) => t.droppedFrames);
}
