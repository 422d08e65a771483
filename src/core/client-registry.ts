/**
 * The sessions the server holds right now, by connection id: what the API
 * lists and kicks, and what graceful shutdown waits for.
 */
export type ClientType = 'rtmp-play' | 'flv-play' | 'fmle-publish' | 'flash-publish' | 'rtc-play' | 'rtc-publish' | 'hls-play' | 'dash-play' | 'srt-play' | 'srt-publish' | 'udp-publish' | 'flv-publish' | 'Unknown';

/** What a publish or play asked for, as SRS names it (hooks, exec variables, sessions). */
export interface StreamRequest {
  vhost: string;
  app: string;
  stream: string;
  /** The request's query, with its leading `?` (SRS's `param`), or ''. */
  param: string;
  tcUrl: string;
  pageUrl: string;
}

/** A datagram transport's view of its link (SRT): what the API and the exporter show per connection. */
export interface LinkStats {
  rttMs: number;
  packetsReceived: number;
  packetsSent: number;
  packetsLost: number;
  packetsRetransmitted: number;
  packetsDropped: number;
  recvBufferPackets: number;
  sendBufferPackets: number;
}

/** A WHEP player's simulcast layer and bandwidth estimate: what the API shows. */
export interface PlayLayerInfo {
  /** The layer's RID being forwarded (null without simulcast). */
  layer: string | null;
  /** Asked for by `?layer=` or the layer action: never switched automatically. */
  pinned: boolean;
  auto_switches: number;
  /** From the player's transport-cc feedback; null without it. */
  estimate_kbps: number | null;
}

export interface ClientSession extends StreamRequest {
  readonly id: string;
  readonly ip: string;
  readonly createdAt: number;
  type: ClientType;
  /** A token the client presented outside the URL (HTTP `Authorization: Bearer`), for policies that authenticate. */
  readonly bearer?: string;
  bytesIn(): number;
  bytesOut(): number;
  /** Ends the session (API kick, shutdown). */
  close(reason: string): void;
  /** Link statistics, for sessions over a transport of our own (SRT). */
  linkStats?(): LinkStats;
  /** WHEP players: the simulcast layer and bandwidth estimate. */
  layerInfo?(): PlayLayerInfo;
}

export class ClientRegistry {
  private readonly clients = new Map<string, ClientSession>();

  get size(): number {
    return this.clients.size;
  }

  add(c: ClientSession): void {
    this.clients.set(c.id, c);
  }

  remove(c: ClientSession): void {
    if (this.clients.get(c.id) === c) this.clients.delete(c.id);
  }

  get(id: string): ClientSession | undefined {
    return this.clients.get(id);
  }

  all(): IterableIterator<ClientSession> {
    return this.clients.values();
  }

  publishers(): ClientSession[] {
    return [...this.clients.values()].filter((c) => c.type.endsWith('-publish'));
  }
}
