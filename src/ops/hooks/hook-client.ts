/**
 * One outbound callback request over HTTP or HTTPS, with a hard time limit
 * and a bounded response read. Sessions await it; nothing else waits.
 * An https:// server's certificate is verified unless the caller says not
 * to (`http_hooks.tls_verify off`, which is what SRS does); see docs/HOOKS.md.
 */
import http from 'node:http';
import https from 'node:https';
import { VERSION } from '../../version.js';

export class HookRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookRequestError';
  }
}

export interface HookReply {
  status: number;
  body: string;
}

export interface HookRequestOptions {
  method?: 'POST' | 'GET';
  /** JSON body (POST). */
  body?: string;
  timeoutMs: number;
  /** Stop reading the answer after this many bytes. */
  maxBodyBytes?: number;
  /** Verify an https:// server's certificate and host name (default true). */
  verifyTls?: boolean;
}

const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
const insecureHttpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, rejectUnauthorized: false });

const USER_AGENT = `Sluice/${VERSION}`;

export function hookRequest(url: string, opts: HookRequestOptions): Promise<HookReply> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new HookRequestError(`bad hook URL ${url}`));
  }
  const lib = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : null;
  if (!lib) return Promise.reject(new HookRequestError(`unsupported hook URL scheme ${target.protocol}`));
  const method = opts.method ?? 'POST';
  const limit = opts.maxBodyBytes ?? 64 * 1024;
  const headers: Record<string, string | number> = { 'User-Agent': USER_AGENT, Connection: 'Keep-Alive' };
  if (method === 'POST') {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(opts.body ?? '');
  }
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      { method, headers, agent: target.protocol === 'https:' ? (opts.verifyTls === false ? insecureHttpsAgent : httpsAgent) : httpAgent, signal: AbortSignal.timeout(opts.timeoutMs) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
        };
        res.on('data', (d: Buffer) => {
          if (done) return;
          const room = limit - size;
          chunks.push(d.length > room ? d.subarray(0, room) : d);
          size += Math.min(d.length, room);
          if (size >= limit) {
            finish();
            res.destroy();
          }
        });
        res.on('end', finish);
        res.on('error', (err) => {
          if (!done) reject(new HookRequestError(err.message));
        });
      },
    );
    req.on('error', (err) => {
      const msg = err.name === 'AbortError' || err.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : err.message;
      reject(new HookRequestError(msg));
    });
    req.end(method === 'POST' ? (opts.body ?? '') : undefined);
  });
}
