/**
 * Players of request-driven outputs (HLS's `hls_ctx`, DASH's `dash_ctx`) as
 * sessions: the first request with a new id is admitted like any play
 * (policies' onPlay: the token, hooks, security) and registered as a client;
 * a session that asks for no playlist/MPD within its timeout ends (onStop,
 * client removed); a kicked id is remembered so that its player gets 404
 * rather than a new session. Each output keeps its own viewer class (what a
 * session serves); this is the table both share.
 */
import type { ServerContext } from '../../core/server-context.js';
import type { ClientSession } from '../../core/client-registry.js';
import { randomId } from '../../log/logger.js';

export interface SessionViewer extends ClientSession {
  lastSeen: number;
  /** Session lifetime without playlist requests (ms). */
  timeoutMs: number;
  closed: boolean;
}

export type SessionLookup<V> = { kind: 'ok'; viewer: V } | { kind: 'eof' } | { kind: 'denied'; reason: string; status: 401 | 403 };

/** Kicked ids are remembered this long (ms) so that their player gets 404, not a new session. */
const KICKED_TTL_MS = 10 * 60_000;
const SWEEP_MS = 1000;

export class PlaySessions<V extends SessionViewer> {
  private readonly viewers = new Map<string, V>();
  private readonly kicked = new Map<string, number>();
  private readonly pending = new Map<string, Promise<SessionLookup<V>>>();
  private readonly timer: NodeJS.Timeout;

  /** `label` names the output in log lines ('HLS play started'). */
  constructor(
    private readonly ctx: ServerContext,
    private readonly label: string,
  ) {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  get size(): number {
    return this.viewers.size;
  }

  /** A new session id for a redirect or a master playlist. */
  newId(): string {
    return randomId(8);
  }

  /** The live session with this id, if any. */
  viewer(id: string): V | undefined {
    return this.viewers.get(id);
  }

  /** A known session, touched (its timeout starts again); null for an id not playing. */
  touch(id: string, timeoutMs: number): V | null {
    const v = this.viewers.get(id);
    if (!v) return null;
    v.lastSeen = Date.now();
    v.timeoutMs = timeoutMs;
    return v;
  }

  /**
   * The session for a request carrying `id`: known → touched; new → made by
   * `make` (whose close must end it: pass it the callback), admitted through
   * the policies and registered; kicked → eof.
   */
  lookup(id: string, timeoutMs: number, make: (onClose: (v: V, reason: string) => void) => V): SessionLookup<V> | Promise<SessionLookup<V>> {
    const known = this.touch(id, timeoutMs);
    if (known) return { kind: 'ok', viewer: known };
    if (this.kicked.has(id)) return { kind: 'eof' };
    const waiting = this.pending.get(id);
    if (waiting) return waiting;
    const viewer = make((v, reason) => this.end(v, reason, true));
    const accept = (): SessionLookup<V> => {
      this.viewers.set(id, viewer);
      this.ctx.clients.add(viewer);
      this.ctx.log.info({ cid: id, ip: viewer.ip, stream: `${viewer.vhost}/${viewer.app}/${viewer.stream}` }, `${this.label} play started`);
      return { kind: 'ok', viewer };
    };
    let result: SessionLookup<V> | null = null;
    const gated = this.ctx.admission.gate(
      'onPlay',
      viewer,
      () => (result = accept()),
      (d) => (result = { kind: 'denied', reason: d.reason, status: d.status }),
    );
    if (!gated) return result!;
    const p = gated.then(() => result!).finally(() => this.pending.delete(id));
    this.pending.set(id, p);
    return p;
  }

  /** Ends every session (server stop). */
  stop(): void {
    clearInterval(this.timer);
    for (const v of [...this.viewers.values()]) this.end(v, 'server stopping', false);
  }

  private end(v: V, reason: string, kicked: boolean): void {
    if (v.closed) return;
    v.closed = true;
    this.viewers.delete(v.id);
    if (kicked) this.kicked.set(v.id, Date.now());
    this.ctx.clients.remove(v);
    this.ctx.admission.notify('onStop', v);
    this.ctx.log.info({ cid: v.id, reason }, `${this.label} play stopped`);
  }

  private sweep(): void {
    const now = Date.now();
    for (const v of [...this.viewers.values()]) if (now - v.lastSeen > v.timeoutMs) this.end(v, 'timeout', false);
    for (const [id, at] of this.kicked) if (now - at > KICKED_TTL_MS) this.kicked.delete(id);
  }
}
