/**
 * Prometheus metrics through prom-client: SRS's names (contract §2.8), so
 * existing dashboards work, plus what an operator needs to see trouble:
 * bytes by direction, clients by protocol, frames dropped for slow players,
 * callback latency, event-loop lag, and per-stream bitrate. Values are read
 * from ServerStats when Prometheus scrapes; nothing is counted on the hot path.
 */
import os from 'node:os';
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerContext } from '../../core/server-context.js';
import type { LinkStats } from '../../core/client-registry.js';
import { protocolOf, isPublishType, type ServerStats, type StreamStat } from '../stats/server-stats.js';
import { VERSION } from '../../version.js';

const LOOP_RESOLUTION_MS = 10;

/** What the DVR reports to the exporter. */
export interface RecordingTotals {
  active: number;
  /** Monotonic: every byte written since start. */
  bytes: number;
  files: number;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly hookSeconds: Histogram<'action' | 'result'>;
  /** Excess delay of a 10 ms timer, in ns, since the previous scrape. */
  private readonly loop: RecordableHistogram;
  private readonly loopTimer: NodeJS.Timeout;

  constructor(
    private readonly ctx: ServerContext,
    stats: ServerStats,
  ) {
    const r = this.registry;
    const cfg = ctx.config.exporter;
    new Gauge({
      name: 'srs_node_uname_info',
      help: 'Operating system of the node',
      labelNames: ['sysname', 'nodename', 'release', 'version', 'machine'],
      registers: [r],
    }).set({ sysname: os.type(), nodename: os.hostname(), release: os.release(), version: os.version(), machine: os.machine() }, 1);
    const buildLabelNames = ['server', 'service', 'pid', 'build_date', 'major', 'version', 'code'];
    if (cfg.label) buildLabelNames.push('label');
    if (cfg.tag) buildLabelNames.push('tag');
    new Gauge({
      name: 'srs_build_info',
      help: 'Build and identity of the server',
      labelNames: buildLabelNames,
      registers: [r],
      collect() {
        const id = ctx.identity;
        const labels: Record<string, string> = {
          server: id.serverId,
          service: id.serviceId,
          pid: String(process.pid),
          build_date: '',
          major: VERSION.split('.')[0] ?? '0',
          version: VERSION,
          code: 'Sluice',
        };
        if (cfg.label) labels.label = cfg.label;
        if (cfg.tag) labels.tag = cfg.tag;
        this.reset();
        this.set(labels, 1);
      },
    });

    const gauge = (name: string, help: string, value: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(value());
        },
      });
    };
    /** A counter mirrored from a monotonic total kept elsewhere. */
    const mirrored = (name: string, help: string, value: () => number): void => {
      let last = 0;
      new Counter({
        name,
        help,
        registers: [r],
        collect() {
          const v = value();
          if (v > last) this.inc(v - last);
          last = Math.max(last, v);
        },
      });
    };
    const refresh = (): void => stats.refresh();
    gauge('srs_cpu_percent', 'CPU usage of the process, percent of one core', () => stats.proc.selfCpuPercent);
    gauge('srs_memory', 'Resident memory of the process (kB)', () => stats.proc.rssKb());
    mirrored('srs_send_bytes_total', 'Bytes sent to clients', () => (refresh(), stats.totals.sendBytes));
    mirrored('srs_receive_bytes_total', 'Bytes received from clients', () => stats.totals.recvBytes);
    gauge('srs_streams', 'Streams with a publisher or players', () => stats.streams.size);
    gauge('srs_clients', 'Connected clients', () => ctx.clients.size);
    mirrored('srs_clients_total', 'Clients seen since start', () => stats.clientsTotal);
    mirrored('srs_clients_errs_total', 'Clients refused by a callback, security rule or refer check', () => stats.clientsErrors);

    new Gauge({
      name: 'sluice_clients',
      help: 'Connected clients by protocol and role',
      labelNames: ['protocol', 'role'],
      registers: [r],
      collect() {
        this.reset();
        for (const c of ctx.clients.all()) {
          if (c.type === 'Unknown') continue;
          this.inc({ protocol: protocolOf(c.type), role: isPublishType(c.type) ? 'publish' : 'play' });
        }
      },
    });
    const perLink = (name: string, help: string, pick: (l: LinkStats) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['protocol', 'role'],
        registers: [r],
        collect() {
          this.reset();
          for (const c of ctx.clients.all()) {
            const l = c.linkStats?.();
            if (l) this.inc({ protocol: protocolOf(c.type), role: isPublishType(c.type) ? 'publish' : 'play' }, pick(l));
          }
        },
      });
    };
    perLink('sluice_link_packets_lost', 'Packets found missing on the connections open now (SRT)', (l) => l.packetsLost);
    perLink('sluice_link_packets_retransmitted', 'Packets retransmitted on the connections open now (SRT)', (l) => l.packetsRetransmitted);
    perLink('sluice_link_packets_dropped', 'Packets given up (too late) on the connections open now (SRT)', (l) => l.packetsDropped);
    perLink('sluice_link_rtt_ms_sum', 'Sum of the round-trip times of the connections open now (SRT; divide by sluice_clients)', (l) => l.rttMs);
    mirrored('sluice_frames_dropped_total', 'Media frames dropped for players too slow to keep up (queue_length)', () => stats.framesDropped);
    const perStream = (name: string, help: string, pick: (s: StreamStat) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['vhost', 'app', 'stream'],
        registers: [r],
        collect() {
          this.reset();
          for (const s of stats.streams.values()) this.set({ vhost: s.vhost, app: s.app, stream: s.stream }, pick(s));
        },
      });
    };
    perStream('sluice_stream_receive_kbps', 'Bitrate received per stream over 30 s (kbit/s)', (s) => s.recv.kbps());
    perStream('sluice_stream_send_kbps', 'Bitrate sent per stream over 30 s (kbit/s)', (s) => s.send.kbps());
    perStream('sluice_stream_clients', 'Publisher and players per stream', (s) => stats.clientsOf(s.key));

    this.hookSeconds = new Histogram({
      name: 'sluice_hook_duration_seconds',
      help: 'HTTP callback latency by action and result',
      labelNames: ['action', 'result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [r],
    });

    // Our own timer rather than monitorEventLoopDelay: that histogram's reset (one per scrape) also
    // forgets the tick in progress, so a stall that ends with a scrape was lost whenever the scrape
    // was handled before the late timer (seen on a busy machine).
    this.loop = createHistogram();
    let prev = performance.now();
    this.loopTimer = setInterval(() => {
      const now = performance.now();
      this.loop.record(Math.max(1, Math.round((now - prev - LOOP_RESOLUTION_MS) * 1e6)));
      prev = now;
    }, LOOP_RESOLUTION_MS);
    this.loopTimer.unref();
    const loop = this.loop;
    new Gauge({
      name: 'sluice_event_loop_lag_seconds',
      help: 'Event-loop delay since the previous scrape (mean, p99, max)',
      labelNames: ['stat'],
      registers: [r],
      collect() {
        const lag = (ns: number): number => Math.max(0, ns - 1) / 1e9;
        const ok = loop.count > 0;
        this.set({ stat: 'mean' }, ok ? lag(loop.mean) : 0);
        this.set({ stat: 'p99' }, ok ? lag(loop.percentile(99)) : 0);
        this.set({ stat: 'max' }, ok ? lag(loop.max) : 0);
        loop.reset();
      },
    });
    collectDefaultMetrics({ register: r });
  }

  /** DVR totals, read at each scrape (the composition root hands the reader over: the DVR is a sibling wing). */
  observeRecordings(read: () => RecordingTotals): void {
    const registers = [this.registry];
    new Gauge({
      name: 'sluice_dvr_recordings',
      help: 'Streams being recorded (DVR)',
      registers,
      collect() {
        this.set(read().active);
      },
    });
    const mirrored = (name: string, help: string, pick: (t: RecordingTotals) => number): void => {
      let last = 0;
      new Counter({
        name,
        help,
        registers,
        collect() {
          const v = pick(read());
          if (v > last) this.inc(v - last);
          last = Math.max(last, v);
        },
      });
    };
    mirrored('sluice_dvr_bytes_total', 'Bytes written to DVR files', (t) => t.bytes);
    mirrored('sluice_dvr_files_total', 'DVR files closed', (t) => t.files);
  }

  /** Feeds the callback-latency histogram (HttpHooks observer). */
  observeHook(action: string, seconds: number, ok: boolean): void {
    this.hookSeconds.observe({ action, result: ok ? 'allow' : 'deny' }, seconds);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  stop(): void {
    clearInterval(this.loopTimer);
    this.registry.clear();
  }
}
