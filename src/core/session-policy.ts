/**
 * The points where business logic decides about a session: HTTP callbacks,
 * IP allow/deny, referer checks, connection limits per stream... each is a
 * SessionPolicy. Every protocol (RTMP, HTTP-FLV, and later WebRTC, SRT, HLS)
 * calls the same points through the one door (admission.ts), so a policy
 * written once covers all of them.
 *
 * The `on*` admission points may be async (an HTTP callback); a policy denies
 * by throwing AccessDenied. The notifications after the fact never block.
 */
import type { ClientSession } from './client-registry.js';

export class AccessDenied extends Error {
  constructor(
    message: string,
    /** SRS's error code, when there is one (e.g. 1053 security deny, 3064 hook). */
    readonly code = 0,
    /** The HTTP status for HTTP-facing protocols: 401 (no or bad credentials) or 403 (the default). */
    readonly status: 401 | 403 = 403,
  ) {
    super(message);
    this.name = 'AccessDenied';
  }
}

/** Where a stream is published in an origin cluster (a coworker's `/api/v1/clusters` answer). */
export interface StreamLocation {
  ip: string;
  rtmpPort: number;
  /** The coworker's HTTP server port, when it told it (Sluice does; SRS does not): HTTP players are redirected only then. */
  httpPort: number | null;
  vhost: string;
}

/**
 * A policy's answer "not here, over there": the player is sent to another
 * server (RTMP 302, HTTP 302) instead of being served or refused.
 */
export class RedirectTo extends AccessDenied {
  constructor(readonly location: StreamLocation) {
    super(`redirected to ${location.ip}:${location.rtmpPort}`, 0);
    this.name = 'RedirectTo';
  }
}

export interface SessionPolicy {
  readonly name: string;
  /**
   * True when this policy must see every player of the vhost, also where SRS
   * plays without asking (HLS with hls_ctx off, its segments): HLS then
   * keeps sessions and serves media only to an admitted session.
   */
  guardsEveryPlay?(vhost: string): boolean;
  onConnect?(s: ClientSession): Promise<void> | void;
  onPublish?(s: ClientSession): Promise<void> | void;
  onPlay?(s: ClientSession): Promise<void> | void;
  onUnpublish?(s: ClientSession): void;
  onStop?(s: ClientSession): void;
  onClose?(s: ClientSession): void;
}

export type AdmissionPoint = 'onConnect' | 'onPublish' | 'onPlay';
export type NotificationPoint = 'onUnpublish' | 'onStop' | 'onClose';
