/**
 * Asks one coworker of an origin cluster where a stream is published, as SRS
 * does: `POST http://<coworker>/api/v1/clusters?vhost=&ip=&app=&stream=&coworker=`
 * (empty body). The answer passes SRS's hook rule (status 200/201, JSON with
 * integer `code` 0) and carries `data.origin.ip` (string) and
 * `data.origin.port` (integer); Sluice origins add `http_port`.
 */
import http from 'node:http';
import type { StreamLocation } from '../../core/session-policy.js';

/** A coworker that does not answer within this long is skipped (ms). */
const DISCOVER_TIMEOUT_MS = 3000;
/** An answer is a few hundred bytes; anything much bigger is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface StreamQuery {
  vhost: string;
  /** The host the player asked for (SRS's `ip` parameter). */
  host: string;
  app: string;
  stream: string;
}

export function clustersUrl(coworker: string, q: StreamQuery): string {
  const p = new URLSearchParams({ vhost: q.vhost, ip: q.host, app: q.app, stream: q.stream, coworker });
  return `http://${coworker}/api/v1/clusters?${p.toString()}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The location in a coworker's answer; null when it has no origin for the stream or the answer is not one. */
export function parseClustersAnswer(status: number, body: string): StreamLocation | null {
  if (status !== 200 && status !== 201) return null;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return null;
  }
  if (!isObject(json) || json.code !== 0 || !isObject(json.data)) return null;
  const o = json.data.origin;
  if (!isObject(o) || typeof o.ip !== 'string' || !o.ip || !Number.isInteger(o.port) || (o.port as number) <= 0) return null;
  const httpPort = Number.isInteger(o.http_port) && (o.http_port as number) > 0 ? (o.http_port as number) : null;
  return { ip: o.ip, rtmpPort: o.port as number, httpPort, vhost: typeof o.vhost === 'string' ? o.vhost : '' };
}

/** One coworker's answer; null on any failure (unreachable, timeout, no such stream). */
export function askCoworker(coworker: string, q: StreamQuery, timeoutMs = DISCOVER_TIMEOUT_MS): Promise<StreamLocation | null> {
  return new Promise((resolve) => {
    let url: URL;
    try {
      url = new URL(clustersUrl(coworker, q));
    } catch {
      return resolve(null);
    }
    const req = http.request(url, { method: 'POST', headers: { 'Content-Length': '0' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) return void req.destroy();
        chunks.push(c);
      });
      res.on('end', () => resolve(parseClustersAnswer(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(null));
    req.on('close', () => resolve(null));
    req.end();
  });
}
