/**
 * SRS's `exec`: while a stream is published, each `publish` command of its
 * vhost runs as a supervised child (no shell; variables replaced inside each
 * word). As SRS's exec cycle, a command that exits is started again (with
 * backoff here, SRS retries every few seconds); at unpublish it gets SIGTERM,
 * then SIGKILL. Names unsafe for a path are refused with a log line, since
 * commands commonly put `[stream]` into an output file name. A reload that
 * changes a vhost's exec restarts the commands of its live streams (SRS's
 * on_reload_vhost_exec).
 */
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { LiveSource } from '../../live/live-source.js';
import type { VhostConfig } from '../../config/vhost-config.js';
import type { ProcessRegistry, RestartPolicy, SupervisedProcess } from '../../ffmpeg/child-supervisor.js';
import { jailedPath } from '../../core/path-jail.js';
import { clip } from '../../log/clip.js';
import { isSafeStreamName, streamUrl } from '../../protocol/stream-url.js';
import { execVariables, expandExecArgv, type ExecRequest } from './exec-variables.js';

/** 1 s, doubling to 30 s; a run of a minute counts as healthy. */
const EXEC_RESTART: RestartPolicy = { initialMs: 1000, maxMs: 30_000, stableMs: 60_000 };
/**
 * SIGTERM to SIGKILL. Longer than the source's republish wait (3 s): an ffmpeg
 * blocked reading [url] acts on SIGTERM only when its input ends, which the
 * server does when that wait is over; killed earlier, it leaves its output
 * file without a trailer (an FLV with no duration, an MP4 with no moov).
 */
const EXEC_KILL_GRACE_MS = 10_000;
const NULL_LOG = '/dev/null';

interface Running {
  procs: SupervisedProcess[];
  /** The exec settings they were started with, to tell a reload that changes them. */
  settings: string;
}

/** What a reload compares: '' when nothing should run. */
function settingsKey(v: VhostConfig | null): string {
  return v?.exec.enabled && v.exec.publish.length > 0 ? JSON.stringify(v.exec.publish) : '';
}

class ExecService {
  private readonly running = new Map<LiveSource, Running>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly processes: ProcessRegistry,
  ) {}

  install(): FeatureHandle {
    this.ctx.onSourceCreated((source) =>
      source.observers.add({
        onPublish: (s) => this.onPublish(s),
        onUnpublish: (s) => void this.onUnpublish(s),
      }),
    );
    return { reload: () => this.reload(), stop: () => this.stopAll() };
  }

  private reload(): void {
    for (const s of this.ctx.sources.all()) {
      if (!s.publisher) continue;
      if ((this.running.get(s)?.settings ?? '') !== settingsKey(this.ctx.vhost(s.vhost))) this.onPublish(s);
    }
  }

  private onPublish(s: LiveSource): void {
    void this.onUnpublish(s);
    const v = this.ctx.vhost(s.vhost);
    const settings = settingsKey(v);
    if (!v || settings === '') return;
    const url = streamUrl(s.vhost, s.app, s.stream);
    if (!isSafeStreamName(s.app) || !isSafeStreamName(s.stream)) {
      this.ctx.log.warn({ stream: clip(url, 200) }, 'exec refused: app or stream name is unsafe for a path');
      return;
    }
    const vars = execVariables(this.request(s), new Date());
    const logFile = this.logFile(s);
    const log = this.ctx.log.child({ stream: url });
    const procs = v.exec.publish.map((words) =>
      this.processes.start({ kind: 'exec', label: url, argv: expandExecArgv(words, vars), logFile, restart: EXEC_RESTART, killGraceMs: EXEC_KILL_GRACE_MS, log }),
    );
    this.running.set(s, { procs, settings });
  }

  private request(s: LiveSource): ExecRequest {
    const session = s.publisher ? this.ctx.clients.get(s.publisher.id) : undefined;
    const listen = this.ctx.config.listen[0];
    const host = listen?.host;
    const rtmpHost = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const rtmpPort = listen?.port ?? 1935;
    return {
      vhost: s.vhost,
      app: s.app,
      stream: s.stream,
      param: session?.param ?? '',
      tcUrl: session?.tcUrl || `rtmp://${rtmpHost}:${rtmpPort}/${s.app}`,
      pageUrl: session?.pageUrl ?? '',
      rtmpHost,
      rtmpPort,
    };
  }

  /** SRS's name: `<ff_log_dir>/ffmpeg-exec-<vhost>-<app>-<stream>.log`, shared by the vhost's commands. */
  private logFile(s: LiveSource): string | null {
    const dir = this.ctx.config.ffLogDir;
    if (dir === NULL_LOG) return null;
    const name = `ffmpeg-exec-${s.vhost}-${s.app}-${s.stream}.log`.replaceAll('/', '_');
    return jailedPath(dir, name);
  }

  private async onUnpublish(s: LiveSource): Promise<void> {
    const r = this.running.get(s);
    if (!r) return;
    this.running.delete(s);
    await Promise.all(r.procs.map((p) => this.processes.stop(p)));
  }

  private async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((s) => this.onUnpublish(s)));
  }
}

export function execFeature(processes: ProcessRegistry): Feature {
  return { name: 'exec', install: (ctx) => new ExecService(ctx, processes).install() };
}
