/**
 * DVR (SRS's `vhost.dvr`): records published streams to FLV or MP4 files.
 * A stream is recorded when its vhost's dvr is enabled and `dvr_apply`
 * names it (`all` or `app/stream`, read at each publish), or when the HTTP
 * API starts it (better than SRS, which has no dynamic DVR); the API can
 * stop either. Files closed are announced through `onFile` (the composition
 * root wires it to on_dvr); a stop finalizes every open file.
 */
import type { Feature, FeatureHandle } from '../../core/feature.js';
import type { ServerContext } from '../../core/server-context.js';
import type { LiveSource } from '../../live/live-source.js';
import { streamUrl } from '../../protocol/stream-url.js';
import { DvrRecording, type DvrFileNotice, type DvrRecordingInfo } from './dvr-recording.js';

export type { DvrFileNotice, DvrRecordingInfo } from './dvr-recording.js';

/** The API's handle on the DVR: what is recorded, start and stop. */
export interface DvrControl {
  list(): DvrRecordingInfo[];
  /** null on success, else why not (no such stream, already recording...). */
  start(vhost: string, app: string, stream: string): string | null;
  stop(vhost: string, app: string, stream: string): Promise<string | null>;
}

export interface DvrFeatureOptions {
  onFile?: (n: DvrFileNotice) => void;
}

export class DvrService implements DvrControl {
  private ctx: ServerContext | null = null;
  private readonly recordings = new Map<string, DvrRecording>();
  /** Of recordings that ended, for the monotonic totals. */
  private endedBytes = 0;
  private endedFiles = 0;

  constructor(private readonly options: DvrFeatureOptions = {}) {}

  install(ctx: ServerContext): FeatureHandle {
    this.ctx = ctx;
    ctx.onSourceCreated((s) => this.follow(s));
    return { stop: () => this.stopAll() };
  }

  /** For the exporter: streams recorded now, bytes and files since start. */
  totals(): { active: number; bytes: number; files: number } {
    let bytes = this.endedBytes;
    let files = this.endedFiles;
    for (const r of this.recordings.values()) {
      const i = r.info();
      bytes += i.bytes;
      files += i.files;
    }
    return { active: this.recordings.size, bytes, files };
  }

  list(): DvrRecordingInfo[] {
    return [...this.recordings.values()].map((r) => r.info());
  }

  start(vhost: string, app: string, stream: string): string | null {
    const ctx = this.ctx;
    if (!ctx) return 'DVR not installed';
    const v = ctx.vhost(vhost);
    const source = ctx.sources.get(v?.name ?? vhost, app, stream);
    if (!v || !source?.active) return 'stream not published';
    if (this.recordings.has(source.key)) return 'already recording';
    const rec = this.recordingFor(source, 'api');
    // Mid-stream: the headers, then the GOP so far, so the file starts at its keyframe at once.
    rec.prime([source.metadata, source.videoHeader, source.audioHeader, ...source.gop.snapshot()]);
    return null;
  }

  async stop(vhost: string, app: string, stream: string): Promise<string | null> {
    const name = this.ctx?.vhost(vhost)?.name ?? vhost;
    const key = `${name}/${app}/${stream}`;
    const rec = this.recordings.get(key);
    if (!rec) return 'not recording';
    this.recordings.delete(key);
    await this.end(rec);
    return null;
  }

  private follow(source: LiveSource): void {
    source.observers.add({
      onPublish: (s) => {
        const v = this.ctx?.vhost(s.vhost);
        if (!v?.dvr.enabled || this.recordings.has(s.key)) return;
        const apply = v.dvr.apply;
        if (!apply.includes('all') && !apply.includes(`${s.app}/${s.stream}`)) return;
        this.recordingFor(s, 'config');
      },
      onFrame: (s, f) => this.recordings.get(s.key)?.onFrame(f),
      onUnpublish: (s) => {
        const rec = this.recordings.get(s.key);
        if (!rec) return;
        this.recordings.delete(s.key);
        void this.end(rec);
      },
    });
  }

  private recordingFor(s: LiveSource, by: 'config' | 'api'): DvrRecording {
    const ctx = this.ctx!;
    const v = ctx.vhost(s.vhost)!;
    const p = ctx.clients.publishers().find((c) => c.vhost === s.vhost && c.app === s.app && c.stream === s.stream);
    const rec = new DvrRecording({
      publisher: { id: p?.id ?? '', ip: p?.ip ?? '', param: p?.param ?? '', tcUrl: p?.tcUrl ?? '' },
      vhost: s.vhost,
      app: s.app,
      stream: s.stream,
      cfg: v.dvr,
      utc: ctx.config.utcTime,
      by,
      log: ctx.log.child({ feature: 'dvr', stream: streamUrl(s.vhost, s.app, s.stream) }),
      onFile: (n) => {
        try {
          this.options.onFile?.(n);
        } catch (err) {
          ctx.log.warn({ err: (err as Error).message }, 'on_dvr listener failed');
        }
      },
    });
    this.recordings.set(s.key, rec);
    return rec;
  }

  /** Stops a recording already taken out of the map, and keeps its figures in the totals. */
  private async end(rec: DvrRecording): Promise<void> {
    await rec.stop();
    const i = rec.info();
    this.endedBytes += i.bytes;
    this.endedFiles += i.files;
  }

  private async stopAll(): Promise<void> {
    const all = [...this.recordings.values()];
    this.recordings.clear();
    await Promise.race([Promise.all(all.map((r) => r.stop())), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}

export function dvrFeature(service: DvrService): Feature {
  return { name: 'dvr', install: (ctx) => service.install(ctx) };
}
