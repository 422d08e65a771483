/**
 * The certificates of every TLS listener (RTMPS, HTTPS, HTTPS API), in one
 * place: each listener's own key/cert files, the `tls.sni` certificates and
 * the ones ACME issued (ops/acme). Files are re-read on reload (SIGHUP) and when they
 * change on disk; a new pair is swapped in with `setSecureContext` (the
 * default one) or through the SNI callback, so new handshakes get it and the
 * connections already up go on with theirs. A pair that does not load (half
 * written, key and cert that do not match) keeps the previous one, with a
 * warning. Handshakes that fail (garbage, a stalled client past the handshake
 * timeout) end that connection with a log line, at most a few a minute.
 */
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.js';
import type { TlsConfig } from '../config/server-config.js';
import { clip } from '../log/clip.js';

/** Paths of a key and its certificate chain (PEM). */
export interface CertFiles {
  key: string;
  cert: string;
}

interface Loaded {
  context: tls.SecureContext;
  pem: { key: Buffer; cert: Buffer };
  notAfter: Date;
}

interface Listener {
  server: tls.Server;
  files: CertFiles;
  name: string;
  loaded: Loaded | null;
}

interface NamedCert {
  names: string[];
  files: CertFiles;
  loaded: Loaded | null;
}

const WATCH_INTERVAL_MS = 2000;
/** A cert and its key are often written one after the other: read both once they have settled. */
const SETTLE_MS = 300;
const HANDSHAKE_LOG_BUDGET = 10;
const HANDSHAKE_LOG_WINDOW_MS = 60_000;

export class TlsCertificates {
  private readonly listeners: Listener[] = [];
  private sni: NamedCert[] = [];
  /** ACME certificates, by their first domain. */
  private readonly issued = new Map<string, { names: string[]; loaded: Loaded }>();
  private readonly watched = new Set<string>();
  private settleTimer: NodeJS.Timeout | null = null;
  private failureWindowStart = 0;
  private failuresLogged = 0;
  private failuresSuppressed = 0;

  constructor(
    private config: TlsConfig,
    private readonly log: Logger,
  ) {
    this.configureSni();
  }

  /**
   * Options for a new TLS server of `name` (the listener's log name) serving
   * `files`. Throws when the files do not load (a listener with no
   * certificate is a start error).
   */
  serverOptions(files: CertFiles, name: string): tls.TlsOptions {
    const loaded = this.tryLoad(files, name, this.config.acme.enabled ? 'warn' : 'error');
    // With ACME on, a listener may start without files: handshakes fail until the first certificate is issued.
    if (!loaded && !this.config.acme.enabled) throw new Error(`${name}: cannot load key ${files.key} / cert ${files.cert}`);
    const fallback = loaded ?? this.acmeDefault();
    return {
      ...(fallback ? fallback.pem : {}),
      handshakeTimeout: this.config.handshakeTimeout,
      SNICallback: (servername, cb) => cb(null, this.contextFor(servername)),
    };
  }

  /** Tracks a listening server made with serverOptions(): swaps and handshake failures. */
  attach(server: tls.Server, files: CertFiles, name: string): void {
    const l: Listener = { server, files, name, loaded: this.tryLoad(files, name, null) };
    this.listeners.push(l);
    this.watch(files);
    server.on('tlsClientError', (err: Error & { code?: string }, socket: tls.TLSSocket | Socket) => this.handshakeFailed(name, err, socket));
    server.once('close', () => {
      const i = this.listeners.indexOf(l);
      if (i >= 0) this.listeners.splice(i, 1);
    });
  }

  /** Reload (SIGHUP): the new `tls` settings, every file read again. */
  reload(config: TlsConfig): void {
    this.config = config;
    this.configureSni();
    this.rereadAll('reload');
  }

  /** An ACME certificate for `names` (PEM): served for those names from now on. Throws when it does not load. Returns its expiry. */
  install(names: string[], keyPem: string, certPem: string): Date {
    const loaded = load(Buffer.from(keyPem), Buffer.from(certPem));
    this.issued.set(names[0] ?? '', { names, loaded });
    // Listeners whose own files do not load serve it by default.
    for (const l of this.listeners) if (!l.loaded) l.server.setSecureContext(loaded.pem);
    this.log.info({ names, notAfter: loaded.notAfter.toISOString() }, 'TLS: ACME certificate in use');
    return loaded.notAfter;
  }

  close(): void {
    for (const f of this.watched) unwatchFile(f);
    this.watched.clear();
    if (this.settleTimer) clearTimeout(this.settleTimer);
  }

  private configureSni(): void {
    this.sni = this.config.sni.map((s) => {
      const files = { key: s.key, cert: s.cert };
      this.watch(files);
      return { names: s.names, files, loaded: this.tryLoad(files, `sni ${s.names.join(' ')}`, 'error') };
    });
  }

  private contextFor(servername: string): tls.SecureContext | undefined {
    const host = servername.toLowerCase();
    for (const c of this.issued.values()) if (c.names.some((n) => matches(n, host))) return c.loaded.context;
    for (const c of this.sni) if (c.loaded && c.names.some((n) => matches(n, host))) return c.loaded.context;
    return undefined;
  }

  private acmeDefault(): Loaded | null {
    for (const c of this.issued.values()) return c.loaded;
    return null;
  }

  private watch(files: CertFiles): void {
    if (!this.config.watch) return;
    for (const f of [files.key, files.cert]) {
      if (this.watched.has(f) || f === '') continue;
      this.watched.add(f);
      watchFile(f, { interval: WATCH_INTERVAL_MS, persistent: false }, (cur, prev) => {
        if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return;
        if (this.settleTimer) clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => this.rereadAll('file changed'), SETTLE_MS);
      });
    }
  }

  private rereadAll(why: string): void {
    for (const l of this.listeners) {
      const next = this.tryLoad(l.files, l.name, 'warn');
      if (!next || (l.loaded && next.pem.cert.equals(l.loaded.pem.cert) && next.pem.key.equals(l.loaded.pem.key))) continue;
      l.server.setSecureContext(next.pem);
      l.loaded = next;
      this.log.info({ listener: l.name, cert: l.files.cert, notAfter: next.notAfter.toISOString(), why }, 'TLS: new certificate in use');
    }
    for (const c of this.sni) {
      const next = this.tryLoad(c.files, `sni ${c.names.join(' ')}`, 'warn');
      if (!next || (c.loaded && next.pem.cert.equals(c.loaded.pem.cert))) continue;
      c.loaded = next;
      this.log.info({ names: c.names, cert: c.files.cert, why }, 'TLS: new SNI certificate in use');
    }
  }

  private tryLoad(files: CertFiles, name: string, level: 'error' | 'warn' | null): Loaded | null {
    try {
      return load(readFileSync(files.key), readFileSync(files.cert));
    } catch (err) {
      if (level) this.log[level]({ listener: name, key: files.key, cert: files.cert, err: clip((err as Error).message, 200) }, 'TLS: key/cert not loaded (the previous one, if any, stays in use)');
      return null;
    }
  }

  private handshakeFailed(listener: string, err: Error & { code?: string }, socket: tls.TLSSocket | Socket): void {
    socket.destroy();
    const now = Date.now();
    if (now - this.failureWindowStart > HANDSHAKE_LOG_WINDOW_MS) {
      if (this.failuresSuppressed > 0) this.log.info({ suppressed: this.failuresSuppressed }, 'TLS handshake failures not logged in the last minute');
      this.failureWindowStart = now;
      this.failuresLogged = 0;
      this.failuresSuppressed = 0;
    }
    if (this.failuresLogged >= HANDSHAKE_LOG_BUDGET) {
      this.failuresSuppressed++;
      return;
    }
    this.failuresLogged++;
    this.log.info({ listener, ip: socket.remoteAddress, code: err.code, err: clip(err.message, 160) }, 'TLS handshake failed; connection closed');
  }
}

function load(key: Buffer, cert: Buffer): Loaded {
  // createSecureContext checks that the key matches the certificate.
  const context = tls.createSecureContext({ key, cert });
  return { context, pem: { key, cert }, notAfter: new Date(new X509Certificate(cert).validTo) };
}

/** `*.example.com` matches `a.example.com`, not `example.com` nor `a.b.example.com`. */
function matches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1);
  return host.endsWith(suffix) && !host.slice(0, -suffix.length).includes('.') && host.length > suffix.length;
}
