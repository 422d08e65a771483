/**
 * The console and player pages (web/console, web/players) and the player
 * libraries from npm (mpegts.js, hls.js), served by the server itself so that
 * they work offline. Paths are resolved inside their directory only.
 */
import { existsSync, readFile, stat } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The project directory holding `web/` (found upward from this module, in src/ or dist/src/). */
let webRootFound: string | null | undefined;

export function findWebRoot(): string | null {
  // Found once: serveWeb asks for every request on the HTTP port, and existsSync must not run per request.
  if (webRootFound !== undefined) return webRootFound;
  webRootFound = searchWebRoot();
  return webRootFound;
}

function searchWebRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'web', 'console', 'index.html'))) return join(dir, 'web');
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return null;
}

const require = createRequire(import.meta.url);

function packageDir(name: string): string | null {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

/** `/assets/<name>` → a file from an npm package. */
export const ASSETS: Record<string, { pkg: string; file: string }> = {
  'mpegts.js': { pkg: 'mpegts.js', file: 'dist/mpegts.js' },
  'hls.js': { pkg: 'hls.js', file: 'dist/hls.min.js' },
};

export function contentType(path: string): string {
  const dot = path.lastIndexOf('.');
  return TYPES[dot >= 0 ? path.slice(dot) : ''] ?? 'application/octet-stream';
}

/** Joins `rel` under `base`, or null when it would leave `base`. */
export function safeJoin(base: string, rel: string): string | null {
  if (rel.includes('\0')) return null;
  const full = normalize(join(base, rel));
  if (full !== base && !full.startsWith(base.endsWith(sep) ? base : base + sep)) return null;
  return full;
}

export function sendFile(req: IncomingMessage, res: ServerResponse, file: string, headers: Record<string, string>): void {
  stat(file, (err, st) => {
    if (err || !st.isFile()) return notFound(res, headers);
    readFile(file, (err2, data) => {
      if (err2) return notFound(res, headers);
      res.writeHead(200, { ...headers, 'Content-Type': contentType(file), 'Content-Length': data.length, 'Cache-Control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  });
}

function notFound(res: ServerResponse, headers: Record<string, string>): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end('Not Found');
}

function redirect(res: ServerResponse, to: string, headers: Record<string, string>): void {
  res.writeHead(302, { ...headers, Location: to, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`Redirect to ${to}`);
}

/**
 * Serves `/console/…`, `/players/…` and `/assets/…` (and `/` → console when
 * `rootIsConsole`). Returns false for any other path.
 */
export function serveWeb(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  headers: Record<string, string>,
  rootIsConsole: boolean,
  /** The pages' settings (where the API is), served as /console/config.json. */
  pageConfig?: () => Record<string, unknown>,
): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = url.pathname;
  if (path === '/console/config.json' || path === '/players/config.json') {
    const body = JSON.stringify(pageConfig?.() ?? { api: '' });
    res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
  const web = findWebRoot();
  if (rootIsConsole && (path === '/' || path === '/index.html')) {
    redirect(res, `/console/${url.search}`, headers);
    return true;
  }
  for (const [prefix, dirName] of [['/console', 'console'], ['/players', 'players']] as const) {
    if (path === prefix) {
      redirect(res, `${prefix}/${url.search}`, headers);
      return true;
    }
    if (path.startsWith(`${prefix}/`)) {
      if (!web) return notFound(res, headers), true;
      let rel: string;
      try {
        rel = decodeURIComponent(path.slice(prefix.length + 1));
      } catch {
        return notFound(res, headers), true;
      }
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      const file = safeJoin(join(web, dirName), rel);
      if (!file) return notFound(res, headers), true;
      sendFile(req, res, file, headers);
      return true;
    }
  }
  if (path.startsWith('/assets/')) {
    const asset = ASSETS[path.slice('/assets/'.length)];
    const dir = asset ? packageDir(asset.pkg) : null;
    if (!asset || !dir) return notFound(res, headers), true;
    sendFile(req, res, join(dir, asset.file), headers);
    return true;
  }
  return false;
}
