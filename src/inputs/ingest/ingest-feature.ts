/**
 * SRS's `ingest`: FFmpeg pulls a file or a stream (an RTSP camera, HTTP-FLV,
 * HLS, UDP) and publishes it to this server over RTMP. One supervised child
 * per engine of every enabled ingest of every enabled vhost (one copy child
 * when the ingest has no engine), started with the server and on reload,
 * stopped on reload removal and at quit, restarted with backoff when it
 * exits. As in SRS, the input is read in real time (`-re`) and a file loops
 * by FFmpeg being started again when it ends (a clean end restarts at once;
 * a failing start backs off). An engine that is off, or names no codec,
 * copies. Sluice adds `-rtsp_transport tcp` for an rtsp:// input unless
 * `perfile` says otherwise: a camera over UDP loses frames on any busy link.
 */
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { IngestConfig, TranscodeEngineConfig } from '../../config/vhost-config.js';
import type { ProcessRegistry, RestartPolicy, SupervisedProcess } from '../../ffmpeg/child-supervisor.js';
import { engineArgv, engineProblem } from '../../ffmpeg/engine-argv.js';
import { expandOutput, outputStream } from '../../ffmpeg/engine-output.js';
import { ffmpegEncoders, fitEngine, resolveFfmpeg } from '../../ffmpeg/ffmpeg-binary.js';
import { ffLogFile } from '../../ffmpeg/ff-log-file.js';
import { clip } from '../../log/clip.js';

/** 1 s doubling to 30 s; 10 s up, or a clean end of a file, counts as healthy. */
const INGEST_RESTART: RestartPolicy = { initialMs: 1000, maxMs: 30_000, stableMs: 10_000, cleanExitIsHealthy: true };
/** Its output is RTMP to us: nothing to finalize, so a short grace. */
const INGEST_KILL_GRACE_MS = 1500;

export interface IngestDeps {
  processes: ProcessRegistry;
  /** This server's RTMP port, SRS's [port] (the first listen). */
  rtmpPort(): number;
}

interface Job {
  /** vhost, ingest id and engine index: who it is on reload. */
  key: string;
  /** Its argv as text: a reload that changes it restarts it. */
  settings: string;
  argv: string[];
  label: string;
  logFile: string | null;
}

class IngestService {
  private readonly running = new Map<string, { settings: string; proc: SupervisedProcess }>();
  /** Bumped by every sync: a slow encoder probe of an older one does not start anything. */
  private generation = 0;

  constructor(
    private readonly ctx: ServerContext,
    private readonly deps: IngestDeps,
  ) {}

  install(): FeatureHandle {
    void this.sync();
    return { reload: () => void this.sync(), onListenersClosed: () => this.stopAll(), stop: () => this.stopAll() };
  }

  private async sync(): Promise<void> {
    const gen = ++this.generation;
    const jobs = await this.jobs();
    if (gen !== this.generation) return;
    const wanted = new Map(jobs.map((j) => [j.key, j]));
    for (const [key, r] of this.running) {
      if (wanted.get(key)?.settings === r.settings) continue;
      this.running.delete(key);
      this.ctx.log.info({ ingest: key.replaceAll('\n', '/') }, 'ingest removed or changed: stopping it');
      void this.deps.processes.stop(r.proc);
    }
    for (const j of jobs) {
      if (this.running.has(j.key)) continue;
      const proc = this.deps.processes.start({
        kind: 'ingest',
        label: j.label,
        argv: j.argv,
        logFile: j.logFile,
        restart: INGEST_RESTART,
        killGraceMs: INGEST_KILL_GRACE_MS,
        log: this.ctx.log.child({ ingest: j.label }),
      });
      this.running.set(j.key, { settings: j.settings, proc });
    }
  }

  private async jobs(): Promise<Job[]> {
    const out: Job[] = [];
    for (const v of this.ctx.config.vhosts) {
      if (!v.enabled) continue;
      for (const ing of v.ingests) {
        if (!ing.enabled) continue;
        const engines: (TranscodeEngineConfig | null)[] = ing.engines.length > 0 ? ing.engines : [null];
        for (let i = 0; i < engines.length; i++) {
          const job = await this.job(v.name, ing, engines[i]!, i);
          if (job) out.push(job);
        }
      }
    }
    return out;
  }

  private async job(vhost: string, ing: IngestConfig, engine: TranscodeEngineConfig | null, index: number): Promise<Job | null> {
    const label = `${vhost}/${ing.id}${engine?.name ? `/${engine.name}` : ''}`;
    const log = this.ctx.log.child({ ingest: label });
    if (ing.input.url === '') {
      log.error('ingest has no input url: not started');
      return null;
    }
    const template = engine?.output ?? '';
    if (template === '') {
      log.error('ingest engine has no output: not started');
      return null;
    }
    const output = expandOutput(template, { vhost, port: String(this.deps.rtmpPort()) }, new Date());
    const ffmpeg = resolveFfmpeg(ing.ffmpeg, log);
    // SRS: an engine that is off or names no codec copies.
    let transcode = engine && engine.enabled && engine.vcodec !== '' && engine.acodec !== '' ? engine : null;
    if (transcode) {
      const problem = engineProblem(transcode);
      if (problem) {
        log.error({ problem }, 'ingest engine refused: not started');
        return null;
      }
      transcode = fitEngine(transcode, await ffmpegEncoders(ffmpeg), log);
    }
    const level = this.ctx.config.ffLogLevel;
    const iparams = [...(level === '' ? [] : ['-loglevel', level]), '-re'];
    const setsTransport = transcode?.perfile.some((o) => o.name === 'rtsp_transport') ?? false;
    if (ing.input.url.startsWith('rtsp://') && !setsTransport) iparams.push('-rtsp_transport', 'tcp');
    const argv = engineArgv({ ffmpeg, iparams, input: ing.input.url, engine: transcode, output });
    const target = outputStream(output);
    const logFile = ffLogFile(this.ctx.config.ffLogDir, ['ffmpeg-ingest', vhost, target?.app ?? ing.id, target?.stream ?? String(index)]);
    return { key: `${vhost}\n${ing.id}\n${index}`, settings: JSON.stringify(argv), argv, label: clip(label, 300), logFile };
  }

  private async stopAll(): Promise<void> {
    this.generation++;
    const procs = [...this.running.values()].map((r) => r.proc);
    this.running.clear();
    await Promise.all(procs.map((p) => this.deps.processes.stop(p)));
  }
}

export function ingestFeature(deps: IngestDeps): Feature {
  return { name: 'ingest', install: (ctx) => new IngestService(ctx, deps).install() };
}
