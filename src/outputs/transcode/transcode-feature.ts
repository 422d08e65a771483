/**
 * SRS's `transcode`: while a stream is published, every enabled engine of the
 * vhost's `transcode` blocks whose scope matches (`transcode {}` every stream,
 * `transcode live {}` the app, `transcode live/cam {}` one stream; all three
 * apply, as in SRS) runs one supervised FFmpeg that plays the stream from this
 * server over RTMP and publishes the engine's output. Stopped at unpublish
 * (SIGTERM, SIGKILL 1.5 s later: gone within 2 s), restarted with backoff
 * when it exits, restarted when a reload changes its settings.
 *
 * SRS's loop rule: a stream that is the output of a running transcode is not
 * transcoded again (else `transcode live` would make livestream_ld_ld ...).
 * SRS compares URL strings; Sluice compares the stream the output URL
 * names (vhost, app, stream), so either URL form of SRS matches.
 */
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { LiveSource } from '../../live/live-source.js';
import type { TranscodeEngineConfig, VhostConfig } from '../../config/vhost-config.js';
import type { ProcessRegistry, RestartPolicy, SupervisedProcess } from '../../ffmpeg/child-supervisor.js';
import { engineArgv, engineProblem } from '../../ffmpeg/engine-argv.js';
import { expandOutput, outputStream } from '../../ffmpeg/engine-output.js';
import { ABR_KEYFRAME_PARAMS } from '../../ffmpeg/abr-ladder.js';
import { ffmpegEncoders, fitEngine, resolveFfmpeg } from '../../ffmpeg/ffmpeg-binary.js';
import { ffLogFile } from '../../ffmpeg/ff-log-file.js';
import { clip } from '../../log/clip.js';
import { isSafeStreamName, streamUrl } from '../../protocol/stream-url.js';

const TRANSCODE_RESTART: RestartPolicy = { initialMs: 1000, maxMs: 30_000, stableMs: 10_000 };
/** Its output is RTMP: nothing to finalize; the 2 s promise of an unpublish holds. */
const TRANSCODE_KILL_GRACE_MS = 1500;

export interface TranscodeDeps {
  processes: ProcessRegistry;
  /** This server's RTMP port, SRS's [port]. */
  rtmpPort(): number;
}

interface Running {
  procs: SupervisedProcess[];
  /** The streams its engines publish (loop rule). */
  outputs: string[];
  settings: string;
}

/** The engines that apply to a stream, in SRS's order: vhost scope, app, app/stream. */
function enginesFor(v: VhostConfig, app: string, stream: string): { ffmpeg: string; engine: TranscodeEngineConfig; abr: boolean }[] {
  const out: { ffmpeg: string; engine: TranscodeEngineConfig; abr: boolean }[] = [];
  for (const scope of ['', app, `${app}/${stream}`]) {
    for (const t of v.transcodes) {
      if (t.scope !== scope || !t.enabled) continue;
      for (const engine of t.engines) if (engine.enabled) out.push({ ffmpeg: t.ffmpeg, engine, abr: t.abr.enabled });
    }
  }
  return out;
}

class TranscodeService {
  private readonly running = new Map<LiveSource, Running>();
  /** Streams published by running engines, with how many engines publish each. */
  private readonly outputs = new Map<string, number>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly deps: TranscodeDeps,
  ) {}

  install(): FeatureHandle {
    this.ctx.onSourceCreated((source) =>
      source.observers.add({
        onPublish: (s) => void this.onPublish(s),
        onUnpublish: (s) => void this.onUnpublish(s),
      }),
    );
    return { reload: () => this.reload(), stop: () => this.stopAll() };
  }

  private settingsOf(s: LiveSource): string {
    const v = this.ctx.vhost(s.vhost);
    return v ? JSON.stringify(enginesFor(v, s.app, s.stream)) : '[]';
  }

  private reload(): void {
    for (const s of this.ctx.sources.all()) {
      if (!s.publisher) continue;
      if ((this.running.get(s)?.settings ?? '[]') !== this.settingsOf(s)) void this.onPublish(s);
    }
  }

  private key(vhost: string, app: string, stream: string): string {
    return `${this.ctx.vhost(vhost)?.name ?? vhost}/${app}/${stream}`;
  }

  private async onPublish(s: LiveSource): Promise<void> {
    void this.onUnpublish(s);
    const v = this.ctx.vhost(s.vhost);
    if (!v) return;
    const engines = enginesFor(v, s.app, s.stream);
    if (engines.length === 0) return;
    const url = streamUrl(s.vhost, s.app, s.stream);
    const log = this.ctx.log.child({ stream: clip(url, 200) });
    if ((this.outputs.get(this.key(s.vhost, s.app, s.stream)) ?? 0) > 0) {
      log.info('stream is the output of a transcode: not transcoded again (SRS loop rule)');
      return;
    }
    if (!isSafeStreamName(s.app) || !isSafeStreamName(s.stream)) {
      log.warn('transcode refused: app or stream name is unsafe for a log path');
      return;
    }
    const settings = JSON.stringify(engines);
    const port = this.deps.rtmpPort();
    const param = (s.publisher ? this.ctx.clients.get(s.publisher.id)?.param : undefined) ?? '';
    // Reserved now, before the encoder probe: its output may be published before we are done.
    const entry: Running = { procs: [], outputs: [], settings };
    this.running.set(s, entry);
    const jobs: { argv: string[]; name: string; logFile: string | null }[] = [];
    for (const { ffmpeg: configured, engine, abr } of engines) {
      const problem = engineProblem(engine);
      if (problem) {
        log.error({ engine: engine.name, problem }, 'transcode engine refused: not started');
        continue;
      }
      const output = expandOutput(engine.output, { vhost: s.vhost, port: String(port), app: s.app, stream: s.stream, param, engine: engine.name }, new Date());
      const target = outputStream(output);
      if (target) {
        const k = this.key(target.vhost, target.app, target.stream);
        entry.outputs.push(k);
        this.outputs.set(k, (this.outputs.get(k) ?? 0) + 1);
      }
      const ffmpeg = resolveFfmpeg(configured, log);
      // SRS 7's input: the stream from this server, its vhost in the query.
      const input = `rtmp://127.0.0.1:${port}/${s.app}/${s.stream}?vhost=${s.vhost}`;
      const fit = fitEngine(engine, await ffmpegEncoders(ffmpeg), log);
      // A rung of an ABR ladder: keyframes where the source has them, on the source's timeline.
      const fitted = abr && fit.vcodec !== 'copy' ? { ...fit, vparams: [...fit.vparams, ...ABR_KEYFRAME_PARAMS] } : fit;
      if (this.running.get(s) !== entry) return;
      const level = this.ctx.config.ffLogLevel;
      const argv = engineArgv({ ffmpeg, iparams: level === '' ? [] : ['-loglevel', level], input, engine: fitted, output });
      jobs.push({ argv, name: engine.name, logFile: ffLogFile(this.ctx.config.ffLogDir, ['ffmpeg-encoder', s.vhost, s.app, s.stream, ...(engine.name ? [engine.name] : [])]) });
    }
    for (const j of jobs) {
      entry.procs.push(
        this.deps.processes.start({ kind: 'transcode', label: `${url} ${j.name}`.trim(), argv: j.argv, logFile: j.logFile, restart: TRANSCODE_RESTART, killGraceMs: TRANSCODE_KILL_GRACE_MS, log }),
      );
    }
  }

  private async onUnpublish(s: LiveSource): Promise<void> {
    const r = this.running.get(s);
    if (!r) return;
    this.running.delete(s);
    for (const k of r.outputs) {
      const n = (this.outputs.get(k) ?? 1) - 1;
      if (n > 0) this.outputs.set(k, n);
      else this.outputs.delete(k);
    }
    await Promise.all(r.procs.map((p) => this.deps.processes.stop(p)));
  }

  private async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((s) => this.onUnpublish(s)));
  }
}

export function transcodeFeature(deps: TranscodeDeps): Feature {
  return { name: 'transcode', install: (ctx) => new TranscodeService(ctx, deps).install() };
}
