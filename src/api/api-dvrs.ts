/**
 * `/api/v1/dvrs`: what is recorded, and recording started or stopped on a
 * live stream without touching the config (SRS has no dynamic DVR, #1577).
 *
 *   GET  /api/v1/dvrs                         → {code:0, dvrs:[{vhost, app, stream, by, plan, file, bytes, duration_ms, files, started_at, error}]}
 *   POST /api/v1/dvrs {"action":"start"|"stop", "stream":"live/s", "vhost":"..."}
 *        (or the same as query parameters)   → {code:0} or {code:N, error:"why"}
 *
 * A POST is a change: api-auth asks for the full-access credential.
 */
import type { IncomingMessage } from 'node:http';
import type { DvrControl } from '../outputs/dvr/dvr-feature.js';
import { DEFAULT_VHOST } from '../config/vhost-config.js';

const ERROR_STREAM_NOT_FOUND = 2048;
const MAX_BODY_BYTES = 4096;

interface DvrRequest {
  action: string;
  vhost: string;
  stream: string;
}

export async function dvrsApi(dvr: DvrControl | undefined, req: IncomingMessage, method: string, url: URL): Promise<Record<string, unknown>> {
  if (!dvr) return { code: 400, error: 'DVR not available' };
  if (method === 'GET') {
    return {
      code: 0,
      dvrs: dvr.list().map((r) => ({
        vhost: r.vhost,
        app: r.app,
        stream: r.stream,
        by: r.by,
        plan: r.plan,
        file: r.file,
        bytes: r.bytes,
        duration_ms: Math.round(r.durationMs),
        files: r.files,
        started_at: r.startedAt,
        error: r.error,
      })),
    };
  }
  if (method !== 'POST') return { code: 405, error: 'GET or POST' };
  const r = await readRequest(req, url);
  if (!r) return { code: 400, error: 'expected {"action":"start"|"stop","stream":"app/stream"}' };
  const slash = r.stream.indexOf('/');
  if (slash <= 0 || slash === r.stream.length - 1) return { code: 400, error: 'stream must be app/stream' };
  const app = r.stream.slice(0, slash);
  const stream = r.stream.slice(slash + 1);
  if (r.action === 'start') {
    const why = dvr.start(r.vhost, app, stream);
    if (why === null) return { code: 0 };
    return { code: why === 'stream not published' ? ERROR_STREAM_NOT_FOUND : 409, error: why };
  }
  if (r.action === 'stop') {
    const why = await dvr.stop(r.vhost, app, stream);
    return why === null ? { code: 0 } : { code: 404, error: why };
  }
  return { code: 400, error: 'action must be start or stop' };
}

async function readRequest(req: IncomingMessage, url: URL): Promise<DvrRequest | null> {
  const q = url.searchParams;
  let o: Record<string, unknown> = {};
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(c);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null) return null;
      o = parsed as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  const pick = (k: string): string | null => {
    const v = o[k] ?? q.get(k);
    return typeof v === 'string' ? v : null;
  };
  const action = pick('action');
  const stream = pick('stream');
  if (action === null || stream === null) return null;
  return { action, stream, vhost: pick('vhost') ?? DEFAULT_VHOST };
}
