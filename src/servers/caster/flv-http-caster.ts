/**
 * SRS's `stream_caster { caster flv; listen PORT; output rtmp://127.0.0.1/[app]/[stream]; }`:
 * an FLV body POSTed to `http://host:PORT/<app>/<stream>.flv` (e.g.
 * `ffmpeg -f flv http://host:8936/live/livestream.flv`) is published to the
 * stream `output` names once `[app]` and `[stream]` are filled in. SRS
 * republishes over RTMP to `output`; here the FLV demuxer feeds this
 * server's hub directly (only the output's vhost/app/stream count).
 *
 * Bounded: one FLV demuxer per request with a tag size limit; bytes wait in
 * the socket (the request is paused) until the publish is admitted; garbage,
 * an oversized tag or silence past the vhost's publish timeouts ends the one
 * request with a log line.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { ClientType } from '../../core/client-registry.js';
import type { StreamCasterConfig } from '../../config/server-config.js';
import { HTTP_SERVER_LIMITS } from '../../core/http-limits.js';
import { closeServer } from '../../core/listen.js';
import { sourcePlayConfig, type ServerContext } from '../../core/server-context.js';
import { FlvDemuxer } from '../../format/flv-demuxer.js';
import { frameFromFlvTag } from '../../format/flv.js';
import type { Logger } from '../../log/logger.js';
import { clip } from '../../log/clip.js';
import { isSafeStreamName, parseUrlRequest } from '../../protocol/stream-url.js';
import { CasterPublish } from './caster-publish.js';

/** Largest FLV tag body taken from a POST: far above any real frame, far below the format's 16 MiB. */
const MAX_TAG_BYTES = 4 * 1024 * 1024;

class FlvPostPublish extends CasterPublish {
  readonly type: ClientType = 'flv-publish';
  frames = 0;
  lastMediaAt = 0;
  /** on_connect passed: its on_close is owed. */
  connected = false;
  readonly demux = new FlvDemuxer({ maxTagSize: MAX_TAG_BYTES });
}

/** `/live/livestream.flv` → app `live`, stream `livestream` (SRS: dirname and basename without `.flv`). */
function appStreamOf(path: string): { app: string; stream: string } | null {
  if (!path.endsWith('.flv')) return null;
  const p = path.slice(0, -4);
  const slash = p.lastIndexOf('/');
  if (slash < 0) return null;
  const app = p.slice(0, slash).replace(/^\/+/, '');
  const stream = p.slice(slash + 1);
  if (!app || !stream || !isSafeStreamName(app) || !isSafeStreamName(stream)) return null;
  return { app, stream };
}

export class FlvHttpCaster {
  private server: http.Server | null = null;
  private readonly sessions = new Set<FlvPostPublish>();
  private timer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  constructor(
    private readonly ctx: ServerContext,
    private readonly cfg: StreamCasterConfig,
  ) {
    this.log = ctx.log.child({ caster: 'flv', port: cfg.listen });
  }

  async start(): Promise<void> {
    // No whole-request deadline: a POST is a live stream; silence is bounded by the publish timeouts below.
    const server = http.createServer({ ...HTTP_SERVER_LIMITS, requestTimeout: 0 }, (req, res) => this.onRequest(req, res));
    server.on('connection', (socket: Socket) => this.ctx.limit.admit(socket, 'flv-caster'));
    server.on('clientError', (err, socket) => {
      this.log.debug({ err: err.message }, 'bad HTTP request');
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.cfg.listen, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.log.warn({ err: err.message }, 'caster listener error'));
    this.server = server;
    this.timer = setInterval(() => this.checkTimeouts(), 500);
    this.timer.unref();
    this.log.info({ output: this.cfg.output }, 'stream caster listening');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const s of [...this.sessions]) s.close('server stopping');
    if (this.server) await closeServer(this.server);
    this.server = null;
  }

  private checkTimeouts(): void {
    const now = Date.now();
    for (const s of this.sessions) {
      if (!s.source) continue;
      const vh = this.ctx.vhost(s.vhost);
      if (!vh) continue;
      if (s.lastMediaAt === 0) {
        if (now - s.createdAt > vh.publish.firstpktTimeout) s.close(`no media within firstpkt_timeout ${vh.publish.firstpktTimeout} ms`);
      } else if (now - s.lastMediaAt > vh.publish.normalTimeout) s.close(`no media within normal_timeout ${vh.publish.normalTimeout} ms`);
    }
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const answer = (status: number, body: string): void => {
      if (res.headersSent) return;
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end(body);
    };
    if (req.method !== 'POST' && req.method !== 'PUT') {
      answer(405, 'POST an FLV stream to /<app>/<stream>.flv');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const names = appStreamOf(url.pathname);
    if (!names) {
      answer(404, 'Not Found');
      return;
    }
    const output = this.cfg.output.replaceAll('[app]', names.app).replaceAll('[stream]', names.stream);
    const target = parseUrlRequest(output);
    const vh = this.ctx.vhost(target.vhost);
    if (!vh || !target.stream) {
      this.log.warn({ output: clip(output) }, 'stream caster: output names no stream of a known vhost');
      answer(404, 'Not Found');
      return;
    }
    // What arrives before the publish is admitted stays in the socket.
    req.pause();
    const ip = req.socket.remoteAddress ?? '';
    const s = new FlvPostPublish(ip, vh.name, target.app, target.stream, target.param || url.search, target.tcUrl);
    const log = this.log.child({ cid: s.id, stream: clip(`${target.app}/${target.stream}`) });
    this.sessions.add(s);
    let status = 200;
    let message = 'OK';
    s.onClose = (reason) => {
      this.sessions.delete(s);
      this.ctx.clients.remove(s);
      if (s.source) {
        s.source.unpublish(s);
        this.ctx.admission.notify('onUnpublish', s);
        log.info({ reason: clip(reason, 200), recv: s.received, frames: s.frames }, 'caster publish stopped');
      }
      if (s.connected) this.ctx.admission.notify('onClose', s);
      // Bytes already here are read (and dropped): closing on unread bytes resets the connection, answer and all.
      req.resume();
      answer(status, message);
      // A body still coming (garbage, a kick) is not read to its end: the answer goes, then
      // the socket is ended (a reset right away could take the answer with it).
      if (!req.complete) {
        res.once('finish', () => {
          req.socket.end();
          setTimeout(() => req.socket.destroy(), 1000).unref();
        });
      }
    };
    const refuse = (code: number, why: string): void => {
      status = code;
      message = why;
      s.close(why);
    };
    req.once('close', () => s.close(req.complete ? 'the POST ended' : 'the publisher went away'));
    req.once('end', () => s.close('the POST ended'));
    req.on('data', (chunk: Buffer) => this.onData(s, chunk, refuse));
    void (async () => {
      for (const point of ['onConnect', 'onPublish'] as const) {
        const ok = await new Promise<boolean>((resolve) => {
          void this.ctx.admission.gate(point, s, () => resolve(true), () => resolve(false), log);
        });
        if (!ok) return refuse(403, 'denied');
        if (s.closed) return;
        if (point === 'onConnect') s.connected = true;
      }
      const source = this.ctx.sources.getOrCreate(vh.name, target.app, target.stream, sourcePlayConfig(vh));
      if (!source.publish(s)) return refuse(409, 'stream is busy');
      s.source = source;
      this.ctx.clients.add(s);
      log.info({ ip, path: clip(url.pathname) }, 'caster publish started');
      req.resume();
    })();
  }

  private onData(s: FlvPostPublish, chunk: Buffer, refuse: (code: number, why: string) => void): void {
    const source = s.source;
    if (s.closed || !source) return;
    s.received += chunk.length;
    try {
      for (const tag of s.demux.feed(chunk)) {
        const f = frameFromFlvTag(tag.type, tag.timestamp, tag.body);
        if (!f) continue;
        s.lastMediaAt = Date.now();
        s.frames++;
        source.onFrame(f);
      }
    } catch (err) {
      refuse(400, `bad FLV: ${(err as Error).message}`);
    }
  }
}
