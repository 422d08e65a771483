/**
 * The console and player pages (web/console, web/players) and the player
 * libraries from npm (mpegts.js, hls.js), served by the server itself so that
 * they work offline. Paths are resolved inside their directory only.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findStaticFile, notFound, safeRequestPath, serveStaticFile } from '../core/static-files.js';

/** The project directory holding `web/` (found upward from this module, in src/ or dist/src/). */
let webRootFound: string | null | undefined;

function findWebRoot(): string | null {
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
const ASSETS: Record<string, { pkg: string; file: string }> = {
  'mpegts.js': { pkg: 'mpegts.js', file: 'dist/mpegts.js' },
  'hls.js': { pkg: 'hls.js', file: 'dist/hls.min.js' },
};

/** A console or player file, or an npm asset, through the one static-file server (its jail, types and ranges). */
function sendFile(req: IncomingMessage, res: ServerResponse, url: URL, root: string, rel: string, headers: Record<string, string>): void {
  serveStaticFile([root], req, res, url, `/${rel}`, { ...headers, 'Cache-Control': 'no-cache' })
    .then((found) => {
      if (!found) notFound(res, headers);
    })
    .catch(() => notFound(res, headers));
}

function redirect(res: ServerResponse, to: string, headers: Record<string, string>): void {
  res.writeHead(302, { ...headers, Location: to, 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`Redirect to ${to}`);
}

/**
 * `/` and `/index.html` on the HTTP port: the web root's own index.html when
 * it has one (an operator's page wins, as in SRS), else a redirect to the console.
 */
function serveRoot(req: IncomingMessage, res: ServerResponse, url: URL, webRootDir: string, headers: Record<string, string>): void {
  findStaticFile([webRootDir], '/index.html')
    .then(async (found) => {
      if (!found) return redirect(res, `/console/${url.search}`, headers);
      if (!(await serveStaticFile([webRootDir], req, res, url, '/index.html', headers))) notFound(res, headers);
    })
    .catch(() => notFound(res, headers));
}

/**
 * Serves `/console/…`, `/players/…` and `/assets/…`, and `/` (the web root's
 * index.html, else the console) when `webRootDir` is given. Returns false for
 * any other path.
 */
export function serveWeb(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  headers: Record<string, string>,
  /** `http_server.dir` on the HTTP port; null elsewhere (`/` is not ours there). */
  webRootDir: string | null,
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
  if (webRootDir !== null && (path === '/' || path === '/index.html')) {
    serveRoot(req, res, url, webRootDir, headers);
    return true;
  }
  for (const [prefix, dirName] of [['/console', 'console'], ['/players', 'players']] as const) {
    if (path === prefix) {
      redirect(res, `${prefix}/${url.search}`, headers);
      return true;
    }
    if (path.startsWith(`${prefix}/`)) {
      if (!web) return notFound(res, headers), true;
      const rel = safeRequestPath(path.slice(prefix.length));
      if (rel === null) return notFound(res, headers), true;
      sendFile(req, res, url, join(web, dirName), rel.slice(1), headers);
      return true;
    }
  }
  if (path.startsWith('/assets/')) {
    const asset = ASSETS[path.slice('/assets/'.length)];
    const dir = asset ? packageDir(asset.pkg) : null;
    if (!asset || !dir) return notFound(res, headers), true;
    sendFile(req, res, url, dir, asset.file, headers);
    return true;
  }
  return false;
}
