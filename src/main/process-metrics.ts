/**
 * The exporter's figures for supervised children (exec, ingest, transcode,
 * the WebRTC audio pipes), registered here in the composition root: the exporter
 * wing does not know the supervisor's registry. Read when Prometheus scrapes.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProcessRegistry, ProcessState } from '../ffmpeg/child-supervisor.js';

const STATES: readonly ProcessState[] = ['starting', 'running', 'backoff', 'stopped'];

export function registerProcessMetrics(registry: Registry, processes: ProcessRegistry): void {
  new Gauge({
    name: 'sluice_processes',
    help: 'Supervised child processes (exec, ingest, transcode, aac-to-opus, opus-to-aac) by kind and state',
    labelNames: ['kind', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const p of processes.list()) counts.set(`${p.kind}\n${p.state}`, (counts.get(`${p.kind}\n${p.state}`) ?? 0) + 1);
      // Every state of every kind seen, so that a state going to 0 shows as 0.
      const kinds = new Set([...counts.keys()].map((k) => k.split('\n')[0]!));
      for (const kind of kinds) for (const state of STATES) this.set({ kind, state }, counts.get(`${kind}\n${state}`) ?? 0);
    },
  });
  let last = 0;
  new Counter({
    name: 'sluice_process_restarts_total',
    help: 'Restarts of supervised child processes after an exit',
    registers: [registry],
    collect() {
      const now = processes.restartsTotal();
      if (now > last) this.inc(now - last);
      last = Math.max(last, now);
    },
  });
}
