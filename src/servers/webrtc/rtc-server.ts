/**
 * The WebRTC service of one server: the one UDP port (libdatachannel's ICE
 * UDP mux, kept open by an IceUdpMuxListener), the optional TCP port, the
 * sessions by ICE username (for DELETE and the API), and the RTP form of
 * each live stream. There is one hub: a WHIP publisher publishes the
 * stream's LiveSource like an RTMP publisher (one name registry, one busy
 * check), and a WHEP player takes a seat on it like any player. The RTP
 * form (RtcStream) hangs off the source: the WHIP publisher's own packets,
 * forwarded as they arrive, or the RTMP→RTC packetizer for other
 * publishers. Admission follows SRS's order: enabled check → busy check
 * (5020) → policies (security, on_publish / on_play hooks) → answer.
 */
import ndc from 'node-datachannel';
import type { IceUdpMuxListener } from 'node-datachannel';
import type { ServerContext } from '../../core/server-context.js';
import { sourcePlayConfig, consumerOptions } from '../../core/server-context.js';
import { AccessDenied, type SessionPolicy } from '../../core/session-policy.js';
import type { ClientSession } from '../../core/client-registry.js';
import type { VhostConfig } from '../../config/server-config.js';
import type { LiveSource, Publisher } from '../../live/live-source.js';
import { isSafeStreamName, streamUrl } from '../../protocol/stream-url.js';
import { randomId } from '../../log/logger.js';
import { RtcStream, type RtcTrackFormat } from './rtc-stream.js';
import { negotiate, RtcError, type Negotiated, type PeerTransport } from './rtc-peer.js';
import { candidateAddresses, candidateLines } from './candidates.js';
import { RtcPublishSession } from './rtc-publish-session.js';
import { RtcPlaySession } from './rtc-play-session.js';
import type { RtcSession } from './rtc-session.js';
import { RtcToRtmpBridge } from './rtc-to-rtmp-bridge.js';
import { RtmpToRtcBridge } from './rtmp-to-rtc-bridge.js';
import { RtcTcpRelay } from './rtc-tcp-relay.js';
import { RtcUdpGateway, type GatewayPeer } from './rtc-udp-gateway.js';
import { RtcWorkerMesh } from './rtc-worker-mesh.js';
import { freeLoopbackUdpPort } from './loopback-port.js';
import { playSeat } from './rtc-play-seat.js';
import type { ProcessRegistry } from '../../ffmpeg/child-supervisor.js';
import type { FfmpegPipeHost } from '../../ffmpeg/ffmpeg-pipe.js';
import { ffLogFile } from '../../ffmpeg/ff-log-file.js';

export interface RtcRequest {
  role: 'publish' | 'play';
  /** The vhost as named by the request (query or Host); resolved here. */
  vhost: string;
  app: string;
  stream: string;
  param: string;
  tcUrl: string;
  ip: string;
  pageUrl: string;
  /** The WHIP/WHEP request's `Authorization: Bearer` token, or ''. */
  bearer: string;
  offer: string;
  eip: string | null;
  apiHost: string | null;
}

export interface RtcAnswer {
  session: RtcSession;
  answer: string;
}

type RtcLog = ServerContext['log'];

/** The UDP gateway's relay as the API shows it. */
export interface RtcRelayCounts {
  /** Which relay holds the public port (null: no gateway, e.g. follow_client_address off). */
  kind: 'native' | 'dgram' | null;
  /** Datagrams passed to sibling --workers processes and got from them. */
  out: number;
  in: number;
  /** Media the native relay moved without JavaScript, to clients and from them, and what it dropped. */
  nativeOut: number;
  /** Media libjuice sent straight to clients through the native relay's sendto (no loopback hop). */
  nativeDirect: number;
  nativeIn: number;
  nativeDropped: number;
}

export const NO_RELAY: RtcRelayCounts = { kind: null, out: 0, in: 0, nativeOut: 0, nativeDirect: 0, nativeIn: 0, nativeDropped: 0 };

export class RtcServer {
  readonly sessions = new Map<string, RtcSession>();
  /** The RTP form of each source that has a WebRTC producer or player; freed with the source. */
  private readonly rtpForms = new WeakMap<LiveSource, RtcStream>();
  private readonly bridges = new Map<LiveSource, RtmpToRtcBridge>();
  private mux: IceUdpMuxListener | null = null;
  private tcp: RtcTcpRelay | null = null;
  /** Holds the public UDP port when `follow_client_address` is on (the default). */
  private gateway: RtcUdpGateway | null = null;
  /** libjuice's mux port: the public one, or a loopback one behind the gateway. */
  private juicePort = 0;
  /** libjuice's bind address: loopback behind the gateway, else the wildcard. */
  private juiceAddress: string | undefined;
  /** Why this process cannot serve WebRTC over UDP (the port is taken), or null. */
  private udpUnavailable: string | null = null;

  /** Refuses an RTMP (or other) publisher while a WebRTC publisher holds the stream (SRS's cross-protocol busy). */
  readonly busyPolicy: SessionPolicy = {
    name: 'rtc-busy',
    onPublish: (s: ClientSession): void => {
      if (s instanceof RtcPublishSession) return;
      if (isRtcPublisher(this.ctx.sources.get(s.vhost, s.app, s.stream)?.publisher ?? null)) throw new AccessDenied('stream is busy: a WebRTC publisher holds it', 1028);
    },
  };

  constructor(
    private readonly ctx: ServerContext,
    /** The supervisor's registry, where the AAC⇄Opus FFmpeg pipes run. */
    private readonly processes: ProcessRegistry,
  ) {}

  /** Where one audio pipe of a stream runs: `ff_log_dir/ffmpeg-<kind>-<vhost>-<app>-<stream>.log`. */
  private pipeHost(kind: string, source: LiveSource, log: RtcLog): FfmpegPipeHost {
    return { processes: this.processes, logFile: ffLogFile(this.ctx.config.ffLogDir, [`ffmpeg-${kind}`, source.vhost, source.app, source.stream]), log };
  }

  /** What the gateway's relay moved (zeros without a gateway). */
  get relayed(): RtcRelayCounts {
    const g = this.gateway;
    if (g === null) return NO_RELAY;
    const n = g.nativeStats;
    return { kind: g.relayKind, ...g.relayed, nativeOut: n?.mediaOut ?? 0, nativeDirect: n?.directOut ?? 0, nativeIn: n?.mediaIn ?? 0, nativeDropped: n?.dropped ?? 0 };
  }

  get enabled(): boolean {
    return this.ctx.config.rtcServer.enabled;
  }

  async start(): Promise<void> {
    const cfg = this.ctx.config.rtcServer;
    if (!cfg.enabled) return;
    this.udpUnavailable = null;
    // --workers N: the workers share the UDP port, which only the gateway can (it routes between them).
    const shared = RtcWorkerMesh.wanted;
    // The TCP relay and the gateway reach libjuice on loopback; without UDP, TCP alone still needs the mux.
    const behindGateway = cfg.followClientAddress || cfg.protocol === 'tcp' || shared;
    this.juicePort = behindGateway ? await freeLoopbackUdpPort() : cfg.listen;
    this.juiceAddress = behindGateway ? '127.0.0.1' : undefined;
    this.mux = new ndc.IceUdpMuxListener(this.juicePort, this.juiceAddress);
    this.mux.onUnhandledStunRequest((r) => this.ctx.log.debug({ ufrag: r.ufrag, host: r.host, port: r.port }, 'WebRTC: STUN for no session'));
    // Shared and TCP-only, the gateway still runs (on loopback): the TCP relays reach the sessions of every worker through it.
    if ((cfg.protocol !== 'tcp' && behindGateway) || shared) {
      const gateway = new RtcUdpGateway(this.ctx.log, { follow: cfg.followClientAddress, shared, ...(cfg.protocol === 'tcp' ? { address: '127.0.0.1' } : {}) });
      try {
        if (shared && RtcWorkerMesh.portTaken) throw Object.assign(new Error(`another process held UDP port ${cfg.listen} when the workers started`), { code: 'EADDRINUSE' });
        await gateway.listen(cfg.listen, this.juicePort);
        this.gateway = gateway;
      } catch (err) {
        // Another process holds the port (e.g. a second --workers process): this one answers no WebRTC offer.
        gateway.close();
        this.udpUnavailable = `UDP port ${cfg.listen} unavailable: ${(err as Error).message}`;
        this.ctx.log.error({ port: cfg.listen, err: (err as Error).message }, 'WebRTC UDP port unavailable in this process; WHIP/WHEP here answer 5021');
      }
    }
    if (cfg.tcp.enabled && cfg.protocol !== 'udp') {
      // Shared, a TCP connection may come to any worker: it is relayed to the gateway's port, which finds the session's worker.
      this.tcp = new RtcTcpRelay(shared && this.gateway ? cfg.listen : this.juicePort, this.ctx.log);
      await this.tcp.listen(cfg.tcp.listen);
    }
    this.ctx.log.info(
      { udp: cfg.protocol !== 'tcp' ? cfg.listen : null, tcp: this.tcp?.port ?? null, candidate: cfg.candidate, followClientAddress: this.gateway !== null && cfg.followClientAddress, sharedWithWorkers: shared, relay: this.gateway?.relayKind ?? null },
      'WebRTC server listening',
    );
  }

  async stop(): Promise<void> {
    for (const s of [...this.sessions.values()]) s.close('server stopping');
    for (const b of this.bridges.values()) b.stop();
    this.bridges.clear();
    this.tcp?.close();
    this.tcp = null;
    this.gateway?.close();
    this.gateway = null;
    this.mux?.stop();
    this.mux = null;
  }

  /** ICE usernames are unique per session; DELETE needs the token from the Location URL. */
  remove(username: string, token: string): 'ok' | 'not-found' | 'bad-token' {
    const s = this.sessions.get(username);
    if (!s) return 'not-found';
    if (s.token !== token) return 'bad-token';
    s.close('DELETE by the client');
    return 'ok';
  }

  /** Moves a WHEP player to another simulcast layer (at that layer's next keyframe); the DELETE token guards it. */
  setLayer(username: string, token: string, layer: string): 'ok' | 'not-found' | 'bad-token' {
    const s = this.sessions.get(username);
    if (!(s instanceof RtcPlaySession)) return 'not-found';
    if (s.token !== token) return 'bad-token';
    s.wantLayer = layer || null;
    return 'ok';
  }

  private checkVhost(req: RtcRequest): VhostConfig {
    const vh = this.ctx.vhost(req.vhost);
    if (!vh) throw new RtcError(`vhost ${req.vhost} not found`, 2014);
    if (!this.enabled || !vh.rtc.enabled) throw new RtcError('WebRTC is disabled (rtc_server and vhost rtc must be enabled)', 5021);
    // One process without its UDP port still serves WebRTC over TCP (straight to its own sessions); shared
    // between workers, a TCP connection may reach a worker that does not hold its session, which only the
    // gateway can route: no offer is answered then.
    if (this.udpUnavailable && (!this.tcp || RtcWorkerMesh.wanted)) throw new RtcError(this.udpUnavailable, 5021);
    if (!req.stream || !isSafeStreamName(req.app) || !isSafeStreamName(req.stream)) throw new RtcError('invalid stream name', 2051);
    if (this.ctx.draining) throw new RtcError('server is shutting down', 5021);
    return vh;
  }

  /** The admission door; a refusal becomes the RtcError the signalling answers with (SRS's 1053 when the policy gave no code; 401 kept for a missing credential). */
  private admitSession(point: 'onPublish' | 'onPlay', s: RtcSession): Promise<void> {
    return new Promise((resolve, reject) => {
      void this.ctx.admission.gate(point, s, resolve, (d) => reject(new RtcError(d.reason, d.code || 1053, d.status === 401 ? 401 : undefined)));
    });
  }

  private async transport(req: RtcRequest): Promise<PeerTransport> {
    const cfg = this.ctx.config.rtcServer;
    const addrs = await candidateAddresses(cfg, { eip: req.eip, apiHost: req.apiHost });
    return { udpPort: this.juicePort, ...(this.juiceAddress ? { bindAddress: this.juiceAddress } : {}), candidates: candidateLines(addrs, cfg, this.tcp !== null) };
  }

  private newSessionInit(req: RtcRequest, vh: VhostConfig): ConstructorParameters<typeof RtcPublishSession>[0] {
    const id = randomId(8);
    return {
      id,
      ip: req.ip,
      vhost: vh.name,
      app: req.app,
      stream: req.stream,
      param: req.param,
      tcUrl: req.tcUrl,
      pageUrl: req.pageUrl,
      bearer: req.bearer,
      log: this.ctx.log.child({ cid: id, stream: streamUrl(vh.name, req.app, req.stream) }),
    };
  }

  /**
   * A session counts in max_connections from its offer until it closes
   * (issue 11 item 5): an offer over the limit gets SRS's
   * ERROR_EXCEED_CONNECTIONS (1074), a refused or failed one gives its slot back.
   */
  private async withSlot(req: RtcRequest, open: (slot: () => void) => Promise<RtcAnswer>): Promise<RtcAnswer> {
    const slot = this.ctx.limit.acquire(`rtc-${req.role}`, req.ip);
    if (!slot) throw new RtcError(`max_connections (${this.ctx.limit.max}) reached`, 1074);
    try {
      return await open(slot);
    } catch (err) {
      slot();
      throw err;
    }
  }

  publish(req: RtcRequest): Promise<RtcAnswer> {
    return this.withSlot(req, (slot) => this.openPublish(req, slot));
  }

  play(req: RtcRequest): Promise<RtcAnswer> {
    return this.withSlot(req, (slot) => this.openPlay(req, slot));
  }

  private async openPublish(req: RtcRequest, slot: () => void): Promise<RtcAnswer> {
    const vh = this.checkVhost(req);
    if (this.ctx.sources.get(vh.name, req.app, req.stream)?.active) throw new RtcError('stream is busy', 5020);
    const session = new RtcPublishSession(this.newSessionInit(req, vh));
    session.slot = slot;
    session.dropPt = vh.rtc.dropForPt;
    session.nack = vh.rtc.nack;
    await this.admitSession('onPublish', session);
    let neg;
    try {
      neg = await negotiate({ name: session.id, offer: req.offer, role: 'publish', transport: await this.transport(req), twcc: vh.rtc.twcc, nack: vh.rtc.nack });
    } catch (err) {
      this.notify('onUnpublish', session);
      throw err;
    }
    // The one busy check that counts: the source's publisher slot, whichever protocol took it meanwhile.
    const source = this.ctx.sources.getOrCreate(vh.name, req.app, req.stream, sourcePlayConfig(vh));
    if (!source.publish(session)) {
      neg.pc.close();
      this.notify('onUnpublish', session);
      throw new RtcError('stream is busy', 5020);
    }
    session.username = `${neg.localUfrag}:${neg.remoteUfrag}`;
    const route = await this.route(neg, () => {
      source.unpublish(session);
      this.notify('onUnpublish', session);
    });
    // The source is ours now: its RTP form comes from our packets, not from packetizing frames.
    this.bridges.get(source)?.stop();
    this.bridges.delete(source);
    const formats = {
      video: neg.tracks.find((t) => t.kind === 'video')?.format ?? null,
      audio: neg.tracks.find((t) => t.kind === 'audio')?.format ?? null,
    };
    const stream = this.rtpFormOf(source);
    const layers = neg.tracks.find((t) => t.kind === 'video')?.routing?.rids ?? [];
    stream.setProducer(session, formats.video, formats.audio, layers);
    if (vh.rtc.rtcToRtmp) {
      // The frame form, for RTMP, FLV, HLS and the other players of the source.
      session.bridge = new RtcToRtmpBridge({
        source,
        videoCodec: formats.video?.codec ?? null,
        hasAudio: formats.audio !== null,
        aacBitrate: vh.rtc.aacBitrate,
        pliIntervalMs: vh.rtc.pliForRtmp * 1000,
        requestKeyframe: (layer) => session.requestKeyframe(layer),
        sendNack: (seqs, layer) => session.sendNack(seqs, layer),
        log: this.ctx.log.child({ cid: session.id }),
        ffmpeg: this.pipeHost('opus-to-aac', source, this.ctx.log.child({ cid: session.id })),
        label: streamUrl(source.vhost, source.app, source.stream),
      });
    }
    session.onRelease = (s, reason) => {
      if (route) this.gateway?.unregister(route);
      source.unpublish(s);
      this.ctx.clients.remove(s);
      this.sessions.delete(s.username);
      this.notify('onUnpublish', s);
      // Players that stay (republish wait) may get the stream from an RTMP republisher.
      if (stream.players.size > 0 && vh.rtc.rtmpToRtc) this.startBridge(vh, source, stream);
      this.ctx.log.debug({ cid: s.id, reason }, 'WebRTC publisher released');
    };
    this.ctx.clients.add(session);
    this.sessions.set(session.username, session);
    session.viaGateway = this.viaGateway;
    session.start(neg.pc, neg.tracks, stream, this.stunTimeoutMs(vh), neg.sharedTrack);
    this.ctx.log.info({ cid: session.id, ip: req.ip, stream: streamUrl(vh.name, req.app, req.stream), video: formats.video?.codec, audio: formats.audio?.codec, layers: layers.length ? layers : undefined, rtcToRtmp: session.bridge !== null }, 'WebRTC publish answered');
    return { session, answer: neg.answer };
  }

  private async openPlay(req: RtcRequest, slot: () => void): Promise<RtcAnswer> {
    const vh = this.checkVhost(req);
    const source = this.ctx.sources.getOrCreate(vh.name, req.app, req.stream, sourcePlayConfig(vh));
    const stream = this.rtpFormOf(source);
    if (!vh.rtc.rtmpToRtc && source.active && !isRtcPublisher(source.publisher)) throw new RtcError('the stream is RTMP and rtmp_to_rtc is off', 5021);
    const session = new RtcPlaySession(this.newSessionInit(req, vh));
    session.slot = slot;
    session.nack = vh.rtc.nack;
    // A simulcast layer by its RID (`?layer=l`); the top layer when absent or not offered by the publisher.
    session.wantLayer = new URLSearchParams(req.param).get('layer') || null;
    await this.admitSession('onPlay', session);
    let video: RtcTrackFormat | null = null;
    let audio: RtcTrackFormat | null = null;
    let h264Profile = '42';
    if (stream.producer) {
      video = stream.video;
      audio = stream.audio;
      if (video?.codec === 'H264') h264Profile = /profile-level-id=([0-9a-f]{2})/i.exec(video.fmtp)?.[1] ?? '42';
    } else if (vh.rtc.rtmpToRtc) {
      const f = RtmpToRtcBridge.formats(source.videoHeader?.codec);
      video = f.video;
      audio = f.audio;
      const vhdr = source.videoHeader;
      if (vhdr && vhdr.codec === 'H264' && vhdr.payload.length > 1) h264Profile = vhdr.payload[1]!.toString(16).padStart(2, '0');
    }
    let neg;
    try {
      neg = await negotiate({ name: session.id, offer: req.offer, role: 'play', transport: await this.transport(req), video, audio, h264Profile, twcc: vh.rtc.twcc, nack: vh.rtc.nack });
    } catch (err) {
      this.notify('onStop', session);
      throw err;
    }
    session.username = `${neg.localUfrag}:${neg.remoteUfrag}`;
    const route = await this.route(neg, () => this.notify('onStop', session));
    const seat = playSeat(session.id, consumerOptions(vh), (reason) => session.close(`stream ended: ${reason}`));
    session.onRelease = (s) => {
      if (route) this.gateway?.unregister(route);
      this.ctx.clients.remove(s);
      this.sessions.delete(s.username);
      this.notify('onStop', s);
      source.removeConsumer(seat);
      const b = this.bridges.get(source);
      if (b && stream.players.size === 0 && ![...this.sessions.values()].some((o) => o instanceof RtcPlaySession && o !== s && o.vhost === s.vhost && o.app === s.app && o.stream === s.stream)) {
        b.stop();
        this.bridges.delete(source);
      }
    };
    this.ctx.clients.add(session);
    this.sessions.set(session.username, session);
    session.viaGateway = this.viaGateway;
    session.start(neg.pc, neg.tracks, stream, this.stunTimeoutMs(vh));
    source.addConsumer(seat);
    if (!stream.producer && vh.rtc.rtmpToRtc) this.startBridge(vh, source, stream);
    this.ctx.log.info({ cid: session.id, ip: req.ip, stream: streamUrl(vh.name, req.app, req.stream), producer: stream.producer?.kind ?? null, layer: session.wantLayer ?? undefined }, 'WebRTC play answered');
    return { session, answer: neg.answer };
  }

  /** The RTP form of a source: the fan-out to its WHEP players. */
  private rtpFormOf(source: LiveSource): RtcStream {
    let s = this.rtpForms.get(source);
    if (!s) this.rtpForms.set(source, (s = new RtcStream(source.vhost, source.app, source.stream)));
    return s;
  }

  /** Packetizes the frames of a publisher that is not WebRTC, once per stream, for its WHEP players. */
  private startBridge(vh: VhostConfig, source: LiveSource, stream: RtcStream): void {
    if (this.bridges.has(source)) return;
    const bridge = new RtmpToRtcBridge(`rtmp2rtc-${randomId(6)}`, source, stream, {
      opusBitrate: vh.rtc.opusBitrate,
      keepBframe: vh.rtc.keepBframe,
      keepSei: vh.rtc.keepAvcNaluSei,
      consumer: consumerOptions(vh),
      isRtcPublisher,
      log: this.ctx.log.child({ stream: streamUrl(vh.name, source.app, source.stream) }),
      ffmpeg: this.pipeHost('aac-to-opus', source, this.ctx.log.child({ stream: streamUrl(vh.name, source.app, source.stream) })),
      label: streamUrl(source.vhost, source.app, source.stream),
    });
    // The players' seats end with the source: the bridge only has to be forgotten.
    bridge.onEnd = () => {
      if (this.bridges.get(source) === bridge) this.bridges.delete(source);
    };
    if (bridge.start()) this.bridges.set(source, bridge);
  }

  /** The session's way through the gateway (null when libjuice holds the public port); on failure the peer is closed and `undo` runs. */
  private async route(neg: Negotiated, undo: () => void): Promise<GatewayPeer | null> {
    if (!this.gateway) return null;
    try {
      return await this.gateway.register(neg.localUfrag, neg.localPwd);
    } catch (err) {
      neg.pc.close();
      undo();
      throw new RtcError(`no UDP route for the session: ${(err as Error).message}`, 5021);
    }
  }

  /** Behind the gateway, libjuice's only legitimate peers are the gateway's and the TCP relay's loopback sockets. */
  private get viaGateway(): ((address: string, port: number) => boolean) | null {
    if (!this.juiceAddress) return null;
    return (address, port) => this.gateway?.ownsLoopback(address, port) === true || (address === '127.0.0.1' && this.tcp?.ownsLoopbackPort(port) === true);
  }

  private stunTimeoutMs(vh: VhostConfig): number {
    return Math.max(1, vh.rtc.stunTimeout) * 1000;
  }

  private notify(point: 'onUnpublish' | 'onStop', s: RtcSession): void {
    this.ctx.admission.notify(point, s);
  }
}

function isRtcPublisher(p: Publisher | null): boolean {
  return p instanceof RtcPublishSession;
}
