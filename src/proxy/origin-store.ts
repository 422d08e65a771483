/**
 * The proxy tier's shared state (issue 16 item 3), behind one small async
 * interface so that a single proxy keeps it in memory and many stateless
 * proxies keep it in Redis (an ioredis implementation maps each method to
 * one or two commands: SET key value PX ttl, GET, SCAN/MGET). Nothing here
 * holds sockets: it is the table "which origins are alive, which origin
 * holds which stream".
 */

/** An origin as its heartbeat (SRS's body, see ops/heartbeat) describes it. */
export interface OriginRecord {
  /** `device_id`, else `server` (SRS's server_id), else `ip`: one origin, whatever restarts it. */
  id: string;
  ip: string;
  /** Listen endpoints as SRS writes them: `port` or `host:port`, `udp://0.0.0.0:port`. */
  rtmp: string[];
  http: string[];
  api: string[];
  srt: string[];
  rtc: string[];
  /**
   * The origin's clients when its heartbeat carries SRS's summaries (`summaries on`):
   * Sluice's `summaries.sluice.clients`, else SRS's `summaries.system.conn_srs`.
   */
  load?: number;
  /** Wall-clock ms of the heartbeat (so every proxy ages it the same way). */
  updatedAt: number;
}

export interface OriginStore {
  /** Records (or refreshes) an origin; it is forgotten `ttlMs` after its last heartbeat. */
  putOrigin(origin: OriginRecord, ttlMs: number): Promise<void>;
  /** The origins whose heartbeat has not expired, by id order. */
  liveOrigins(): Promise<OriginRecord[]>;
  /** The origin that holds a stream (`vhost/app/stream`), if one was picked and has not expired. */
  streamOrigin(streamKey: string): Promise<string | null>;
  /** Pins a stream to an origin for `ttlMs` (refreshed while the stream is used). */
  setStreamOrigin(streamKey: string, originId: string, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}
