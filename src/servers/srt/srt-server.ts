/**
 * The SRT wing: one UDP socket (`srt_server.listen`) for every SRT caller.
 * Datagrams are routed by destination socket id (handshakes, with id 0, go
 * to the listener), checked against the peer address the connection was
 * made from, and fed to that connection's state machine; one 10 ms timer
 * runs every connection's clock. A conclusion passes the admission door
 * (stream id rules, vhost `srt`, encryption, max_connections, hooks,
 * security, busy stream) before it is answered; a refusal is answered with
 * an SRT rejection the caller reports. Bad datagrams are counted and logged
 * at most once per interval; nothing a stranger sends allocates per packet
 * beyond bounded tables.
 */
import dgram from 'node:dgram';
import { bindOwnedUdp } from '../../core/udp-bind.js';
import { DroppedDatagrams } from '../../core/dropped-datagrams.js';
import os from 'node:os';
import { randomInt } from 'node:crypto';
import type { FeatureHandle } from '../../core/feature.js';
import { consumerOptions, sourcePlayConfig, type ServerContext } from '../../core/server-context.js';
import { Consumer } from '../../live/consumer.js';
import { clip } from '../../log/clip.js';
import { isSafeStreamName, streamUrl } from '../../protocol/stream-url.js';
import { SrtError } from '../../protocol/srt/srt-error.js';
import { ControlType, parsePacket } from '../../protocol/srt/srt-packet.js';
import { HandshakeType, RejectReason, parseHandshake } from '../../protocol/srt/srt-handshake.js';
import { SrtListener, type ConclusionRequest } from '../../protocol/srt/srt-listener.js';
import { SrtConnection } from '../../protocol/srt/srt-connection.js';
import { unwrapKeys, type StreamKeys } from '../../protocol/srt/srt-key-material.js';
import { parseSrtStreamId } from '../../protocol/srt/srt-stream-id.js';
import type { SrtSession, SrtSessionInit } from './srt-session.js';
import { SrtPublishSession } from './srt-publish-session.js';
import { SrtPlaySession } from './srt-play-session.js';

const TICK_MS = 10;
/** Conclusions waiting for the admission door at once. */
const MAX_PENDING = 256;
/** Larger than any SRT datagram (MSS 1500): a bigger one is not ours. */
const MAX_DATAGRAM = 1500;
/** SRS's codes for a refused SRT connection. */
const ERR_SRT_CONN = 6006;

function nowUs(): number {
  return performance.now() * 1000;
}

function publicAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export class SrtServer {
  private socket: dgram.Socket | null = null;
  private readonly sessions = new Map<number, SrtSession>();
  /** `ip:port|callerSocketId` → the conclusion answer, resent to a caller that did not hear it. */
  private readonly answers = new Map<string, Buffer>();
  private readonly pending = new Set<string>();
  private readonly listener: SrtListener;
  private readonly startUs = nowUs();
  private timer: NodeJS.Timeout | null = null;
  private readonly dropped: DroppedDatagrams;
  private readonly host = publicAddress();

  constructor(private readonly ctx: ServerContext) {
    this.listener = new SrtListener(this.newSocketId(), () => nowUs() - this.startUs);
    this.dropped = new DroppedDatagrams(ctx.log, 'SRT: datagrams dropped');
  }

  async install(): Promise<FeatureHandle> {
    const cfg = this.ctx.config.srtServer;
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: Math.max(cfg.recvBuf, 1 << 20), sendBufferSize: Math.max(cfg.sendBuf, 1 << 20) });
    // One worker serves SRT (as SRS's one process does): a connection's datagrams must reach the worker of its handshake.
    if ((await bindOwnedUdp(socket, cfg.listen, '0.0.0.0')) === 'held-by-another-worker') {
      this.ctx.log.info({ port: cfg.listen }, 'SRT port held by another worker');
      return { stop: () => undefined };
    }
    socket.on('error', (err) => this.ctx.log.warn({ err: err.message }, 'SRT socket error'));
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
    this.socket = socket;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.ctx.log.info({ port: this.port() }, 'SRT server listening');
    return { stop: () => this.stop() };
  }

  port(): number {
    return this.socket?.address().port ?? 0;
  }

  /** The sessions by kind, for statistics. */
  all(): IterableIterator<SrtSession> {
    return this.sessions.values();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of [...this.sessions.values()]) s.close('server stopping');
    this.socket?.close();
    this.socket = null;
  }

  private newSocketId(): number {
    for (;;) {
      const id = randomInt(1, 0x3fffffff);
      if (!this.sessions.has(id)) return id;
    }
  }

  private countBad(reason: string, peer: string): void {
    this.dropped.note(reason, peer);
  }

  /** Datagrams dropped since start. */
  get badDatagrams(): number {
    return this.dropped.count;
  }

  private onDatagram(msg: Buffer, ip: string, port: number): void {
    const peer = `${ip}:${port}`;
    if (msg.length > MAX_DATAGRAM) return this.countBad('datagram larger than the MSS', peer);
    let p;
    try {
      p = parsePacket(msg);
    } catch (err) {
      if (err instanceof SrtError) return this.countBad(err.message, peer);
      throw err;
    }
    if (p.destSocket !== 0) {
      const s = this.sessions.get(p.destSocket);
      if (!s || s.ip !== ip || s.port !== port) return this.countBad('no connection for this socket id and address', peer);
      s.conn.receive(p, nowUs());
      this.pump(s);
      return;
    }
    if (!p.control || p.type !== ControlType.HANDSHAKE) return this.countBad('packet to socket 0 that is not a handshake', peer);
    let hs;
    try {
      hs = parseHandshake(p.body);
    } catch (err) {
      if (err instanceof SrtError) return this.countBad(err.message, peer);
      throw err;
    }
    const key = `${peer}|${hs.socketId}`;
    if (hs.type === HandshakeType.CONCLUSION) {
      const answer = this.answers.get(key);
      if (answer) return this.sendTo(answer, ip, port);
      if (this.pending.has(key)) return;
    }
    let r;
    try {
      r = this.listener.handle(hs, p.timestamp, peer, Date.now());
    } catch (err) {
      if (err instanceof SrtError) return this.countBad(err.message, peer);
      throw err;
    }
    if (r.kind === 'reply') return this.sendTo(r.packet, ip, port);
    if (r.kind === 'drop') return this.countBad(r.reason, peer);
    if (this.pending.size >= MAX_PENDING) return this.countBad('too many handshakes waiting for admission', peer);
    this.pending.add(key);
    void this.admit(r.request, ip, port, key).finally(() => this.pending.delete(key));
  }

  private sendTo(b: Buffer, ip: string, port: number): void {
    this.socket?.send(b, port, ip);
  }

  private refuse(req: ConclusionRequest, ip: string, port: number, reason: number, why: string, code = ERR_SRT_CONN): void {
    this.ctx.log.warn({ peer: `${ip}:${port}`, streamid: clip(req.streamId, 200), reason: why, code, reject: reason }, 'SRT connection refused');
    this.sendTo(this.listener.rejection(req, reason), ip, port);
  }

  private async admit(req: ConclusionRequest, ip: string, port: number, key: string): Promise<void> {
    const cfg = this.ctx.config.srtServer;
    const sid = parseSrtStreamId(req.streamId, cfg.defaultApp, { streamId: cfg.defaultStreamId, plainMode: cfg.defaultMode });
    if (!sid) return this.refuse(req, ip, port, RejectReason.BAD_REQUEST, 'stream id with an unknown mode (m=)');
    const vhostName = sid.vhost || '__defaultVhost__';
    const vh = this.ctx.vhost(vhostName);
    if (!vh || !vh.srt.enabled) return this.refuse(req, ip, port, RejectReason.NOT_FOUND, `SRT not enabled for vhost ${vhostName}`);
    if (!sid.stream || !isSafeStreamName(sid.app) || !isSafeStreamName(sid.stream)) return this.refuse(req, ip, port, RejectReason.BAD_REQUEST, 'invalid stream name');
    if (this.ctx.draining) return this.refuse(req, ip, port, RejectReason.CLOSE, 'server is shutting down');
    let keys: StreamKeys | null = null;
    if (cfg.passphrase) {
      if (!req.km) return this.refuse(req, ip, port, RejectReason.UNSECURE, 'no encryption from the caller, a passphrase is set');
      keys = unwrapKeys(req.km, cfg.passphrase);
      if (!keys) return this.refuse(req, ip, port, RejectReason.BADSECRET, 'wrong passphrase');
    } else if (req.kmreq) return this.refuse(req, ip, port, RejectReason.UNSECURE, 'the caller encrypts, no passphrase is set');
    const slot = this.ctx.limit.acquire('srt', ip);
    if (!slot) return this.refuse(req, ip, port, RejectReason.RESOURCE, `max_connections (${this.ctx.limit.max}) reached`, 1074);
    const socketId = this.newSocketId();
    const recvLatencyMs = Math.max(cfg.recvLatency, req.hsreq.sendLatencyMs);
    const sendLatencyMs = Math.max(cfg.peerLatency, req.hsreq.recvLatencyMs);
    const mtu = Math.min(req.mtu || cfg.mss, cfg.mss);
    const packetBytes = Math.max(188, mtu - 28);
    const recvBufferPackets = Math.max(32, Math.floor(cfg.recvBuf / packetBytes));
    const now = nowUs();
    const conn = new SrtConnection({
      localSocketId: socketId,
      peerSocketId: req.callerSocketId,
      peerInitialSeq: req.initialSeq,
      initialSeq: req.initialSeq,
      recvLatencyUs: recvLatencyMs * 1000,
      sendLatencyUs: sendLatencyMs * 1000,
      tsbpd: cfg.tsbpdMode,
      tlpktdrop: cfg.tlpktDrop,
      peerFlowWindow: Math.max(32, req.flowWindow),
      recvBufferPackets,
      sendBufferPackets: Math.max(32, Math.floor(cfg.sendBuf / packetBytes)),
      maxBwBytesPerSec: cfg.maxbw,
      peerIdleTimeoutUs: cfg.peerIdleTimeout * 1000,
      keys,
      passphrase: cfg.passphrase || undefined,
      startUs: this.startUs,
      peerStartUs: now - req.timestamp,
    }, now);
    const id = `srt-${socketId.toString(36)}`;
    const init: SrtSessionInit = {
      id,
      ip,
      port,
      vhost: vh.name,
      app: sid.app,
      stream: sid.stream,
      param: sid.param,
      tcUrl: `srt://${sid.vhost || this.host}/${sid.app}`,
      pageUrl: '',
      conn,
      log: this.ctx.log.child({ cid: id, stream: clip(streamUrl(vh.name, sid.app, sid.stream)) }),
      flush: (s) => this.pump(s),
    };
    const session: SrtSession = sid.mode === 'publish' ? new SrtPublishSession(init) : new SrtPlaySession(init, Math.min(cfg.payloadSize, packetBytes - 16));
    const denied = (point: string, d: { reason: string; code: number }): void => {
      slot();
      this.refuse(req, ip, port, RejectReason.FORBIDDEN, `${point}: ${d.reason}`, d.code || ERR_SRT_CONN);
    };
    const askedAt = Date.now();
    let ok = await this.gate('onConnect', session, denied);
    if (ok) ok = await this.gate(sid.mode === 'publish' ? 'onPublish' : 'onPlay', session, denied);
    // The caller has given up by now (libsrt's connect timeout): do not hold a session for nobody.
    if (ok && Date.now() - askedAt > cfg.connectTimeout) {
      ok = false;
      slot();
      if (sid.mode === 'publish') this.ctx.admission.notify('onUnpublish', session);
      this.refuse(req, ip, port, RejectReason.TIMEOUT, `admission took longer than connect_timeout ${cfg.connectTimeout} ms`);
    }
    if (!ok) {
      this.ctx.admission.notify('onClose', session);
      return;
    }
    const source = this.ctx.sources.getOrCreate(vh.name, sid.app, sid.stream, sourcePlayConfig(vh));
    if (session instanceof SrtPublishSession) {
      if (!source.publish(session)) {
        slot();
        this.ctx.admission.notify('onUnpublish', session);
        this.ctx.admission.notify('onClose', session);
        return this.refuse(req, ip, port, RejectReason.CONFLICT, 'stream is busy (already published)', 1028);
      }
      session.source = source;
    }
    const answer = this.listener.conclusionResponse(req, { socketId, recvLatencyMs, sendLatencyMs, tlpktdrop: cfg.tlpktDrop, mtu, flowWindow: recvBufferPackets, kmrsp: keys ? req.kmreq : null });
    this.answers.set(key, answer);
    this.sessions.set(socketId, session);
    this.ctx.clients.add(session);
    session.onClosed = (s) => {
      this.sessions.delete(socketId);
      this.answers.delete(key);
      this.ctx.clients.remove(s);
      slot();
      if (s instanceof SrtPublishSession) {
        s.log.info({ framesIn: s.framesIn, ignoredPes: s.ignoredPes }, 'SRT publish stopped');
        source.unpublish(s);
        this.ctx.admission.notify('onUnpublish', s);
      } else if (s instanceof SrtPlaySession && s.consumer) {
        source.removeConsumer(s.consumer);
        s.consumer.closed = true;
        this.ctx.admission.notify('onStop', s);
      }
      this.ctx.admission.notify('onClose', s);
    };
    this.sendTo(answer, ip, port);
    if (session instanceof SrtPlaySession) {
      session.source = source;
      session.consumer = new Consumer(id, session, consumerOptions(vh));
      source.addConsumer(session.consumer);
    }
    this.ctx.log.info({ cid: id, peer: `${ip}:${port}`, type: session.type, streamid: clip(req.streamId, 200), param: clip(sid.param), latencyMs: recvLatencyMs, peerLatencyMs: sendLatencyMs, encrypted: keys !== null }, 'SRT connection accepted');
  }

  private gate(point: 'onConnect' | 'onPublish' | 'onPlay', s: SrtSession, denied: (point: string, d: { reason: string; code: number }) => void): Promise<boolean> {
    return new Promise((resolve) => {
      const r = this.ctx.admission.gate(
        point,
        s,
        () => resolve(true),
        (d) => {
          denied(point, d);
          resolve(false);
        },
      );
      void r;
    });
  }

  private tick(): void {
    const now = nowUs();
    for (const s of [...this.sessions.values()]) {
      s.conn.tick(now);
      this.pump(s);
    }
  }

  /** Sends what the connection produced, hands on its payloads, ends it when it closed. */
  private pump(s: SrtSession): void {
    const out = s.conn.take();
    for (const p of out.packets) this.sendTo(p, s.ip, s.port);
    if (out.payloads.length) s.onPayloads(out.payloads);
    for (const e of out.events) if (e.type === 'closed') s.ended(e.reason);
  }
}
