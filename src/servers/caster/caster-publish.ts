/**
 * A stream caster's publisher as a client of the server (listed by the API,
 * kicked, counted): what the UDP and the HTTP-FLV casters share; each adds
 * its demuxer and its own state.
 */
import type { ClientSession, ClientType } from '../../core/client-registry.js';
import type { LiveSource, Publisher } from '../../live/live-source.js';

export abstract class CasterPublish implements ClientSession, Publisher {
  readonly createdAt = Date.now();
  abstract readonly type: ClientType;
  readonly id = `caster-${Math.random().toString(36).slice(2, 10)}`;
  pageUrl = '';
  received = 0;
  source: LiveSource | null = null;
  closed = false;
  onClose: ((reason: string) => void) | null = null;

  constructor(
    readonly ip: string,
    public vhost: string,
    public app: string,
    public stream: string,
    public param: string,
    public tcUrl: string,
  ) {}

  bytesIn(): number {
    return this.received;
  }

  bytesOut(): number {
    return 0;
  }

  kick(reason: string): void {
    this.close(reason);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose?.(reason);
  }
}
