/**
 * The static file server of the HTTP port: `http_server.dir`, `hls_path`
 * and `dash_path` files with SRS's content types, caching headers (playlists
 * never cached, segments cacheable), CORS, HEAD and byte ranges.
 *
 * The web root is a jail. A request path is decoded exactly once; what is
 * left must not contain `..` segments, backslashes, NUL, or another
 * escaped dot, slash or backslash (a double-encoded `%252e%252e` is refused,
 * not decoded twice); the resolved path, and the real path behind any symlink, must stay
 * inside the root.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Stats } from 'node:fs';
import { open, realpath, stat, type FileHandle } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { isInside, jailedPath } from './path-jail.js';

const CONTENT_TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/MP2T',
  '.mpd': 'application/dash+xml',
  '.m4s': 'video/iso.segment',
  '.flv': 'video/x-flv',
  '.fhv': 'video/x-flv',
  '.mp4': 'video/mp4',
  '.m4v': 'video/x-m4v',
  '.m4a': 'audio/x-m4a',
  '.3gp': 'video/3gpp',
  '.3gpp': 'video/3gpp',
  '.aac': 'audio/x-aac',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.rss': 'application/rss+xml',
  '.json': 'application/json',
  '.swf': 'application/x-shockwave-flash',
  '.doc': 'application/msword',
  '.zip': 'application/zip',
  '.rar': 'application/x-rar-compressed',
  '.xml': 'text/xml',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.css': 'text/css',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
  '.key': 'application/octet-stream',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Playlists change every few seconds; segments never change once written. */
export function cacheControlOf(path: string): string | null {
  const ext = extname(path).toLowerCase();
  // A CDN or proxy_cache may keep a playlist one second (less than any segment), never longer.
  if (ext === '.m3u8' || ext === '.mpd') return 'public, max-age=1';
  if (ext === '.ts' || ext === '.m4s' || ext === '.aac' || ext === '.mp3' || ext === '.key') return 'public, max-age=60';
  return null;
}

/**
 * Decodes a raw URL path once and checks it: null when it is malformed or
 * tries to leave (`..`, `\`, NUL, an escaped dot/slash left after decoding).
 */
export function safeRequestPath(rawPath: string): string | null {
  let p: string;
  try {
    p = decodeURIComponent(rawPath);
  } catch {
    return null;
  }
  if (!p.startsWith('/')) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\\\x00-\x1f]/.test(p)) return null;
  // Still an escaped dot, slash, backslash or NUL after one decode: a double-encoded traversal attempt.
  if (/%(2e|2f|5c|00)/i.test(p)) return null;
  for (const seg of p.split('/')) if (seg === '..' || seg === '.') return null;
  return p;
}

export interface StaticFile {
  abs: string;
  root: string;
}

/**
 * Finds a regular file for the request path in the first root that has it
 * (directories give their index.html). Asynchronous: a stat never blocks
 * the event loop (a slow or network disk would stall every live player).
 */
export async function findStaticFile(roots: readonly string[], requestPath: string): Promise<StaticFile | null> {
  for (const root of roots) {
    let abs = jailedPath(root, requestPath);
    if (!abs) continue;
    let st = await statQuiet(abs);
    if (st?.isDirectory()) {
      abs = resolve(abs, 'index.html');
      st = await statQuiet(abs);
    }
    if (st?.isFile()) return { abs, root };
  }
  return null;
}

async function statQuiet(p: string): Promise<Stats | null> {
  try {
    return await stat(p);
  } catch {
    return null;
  }
}

/** Finds and sends a static file; false (nothing sent) when no root has it. */
export async function serveStaticFile(roots: readonly string[], req: IncomingMessage, res: ServerResponse, url: URL, requestPath: string, cors: Record<string, string>): Promise<boolean> {
  const file = await findStaticFile(roots, requestPath);
  if (!file || res.destroyed) return false;
  await sendStaticFile(req, res, file, url, cors);
  return true;
}

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range). Returns null when
 * absent or not a single bytes range (serve the whole file), 'unsatisfiable'
 * when outside the file.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/**
 * Sends a file found by findStaticFile: content type, caching, CORS, HEAD,
 * Range (and SRS's `?range=`/`?bytes=` for mp4). The file is opened once
 * and its size taken from that handle, so a segment replaced meanwhile
 * (temp + rename) is still sent whole and consistent with Content-Length.
 */
async function sendStaticFile(req: IncomingMessage, res: ServerResponse, file: StaticFile, url: URL, cors: Record<string, string>): Promise<void> {
  // A symlink inside the root may point outside it.
  try {
    const [real, realRoot] = await Promise.all([realpath(file.abs), realpath(file.root)]);
    if (!isInside(realRoot, real)) return notFound(res, cors);
  } catch {
    return notFound(res, cors);
  }
  let fh: FileHandle;
  let st: Stats;
  try {
    fh = await open(file.abs, 'r');
  } catch {
    return notFound(res, cors);
  }
  try {
    st = await fh.stat();
  } catch {
    await fh.close().catch(() => undefined);
    return notFound(res, cors);
  }
  if (!st.isFile() || res.destroyed) {
    await fh.close().catch(() => undefined);
    return res.destroyed ? undefined : notFound(res, cors);
  }
  const size = st.size;
  const headers: Record<string, string> = {
    ...cors,
    'Content-Type': contentTypeOf(file.abs),
    'Accept-Ranges': 'bytes',
    'Last-Modified': st.mtime.toUTCString(),
  };
  const cache = cacheControlOf(file.abs);
  if (cache) headers['Cache-Control'] = cache;
  let rangeHeader = typeof req.headers.range === 'string' ? req.headers.range : undefined;
  if (!rangeHeader && extname(file.abs).toLowerCase() === '.mp4') {
    const q = url.searchParams.get('range') ?? url.searchParams.get('bytes');
    if (q) rangeHeader = `bytes=${q}`;
  }
  const range = parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') {
    await fh.close().catch(() => undefined);
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': '0' });
    res.end();
    return;
  }
  const start = range ? range.start : 0;
  const end = range ? range.end : size - 1;
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  headers['Content-Length'] = String(size === 0 ? 0 : end - start + 1);
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || size === 0) {
    await fh.close().catch(() => undefined);
    res.end();
    return;
  }
  const stream = fh.createReadStream({ start, end, autoClose: true });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

export function notFound(res: ServerResponse, cors: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(404, { ...cors, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not Found');
}

/** Sends a body from memory with the headers a static file of that name would get. */
export function sendMemory(
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  body: Buffer | string,
  cors: Record<string, string>,
  status = 200,
  cacheControl: string | null = cacheControlOf(name),
): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const headers: Record<string, string> = { ...cors, 'Content-Type': contentTypeOf(name), 'Content-Length': String(buf.length) };
  const cache = cacheControl;
  if (cache) headers['Cache-Control'] = cache;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') res.end();
  else res.end(buf);
}
