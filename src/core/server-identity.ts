/**
 * The identity a server shows to the outside (API envelope, hook bodies,
 * exporter labels, /rtc/v1 replies): `server_id`, `service_id`, start time.
 * Made once with the server's context, so that all of them agree.
 */
import { randomId } from '../log/logger.js';

export interface ServerIdentity {
  readonly serverId: string;
  readonly serviceId: string;
  readonly startedAt: number;
}

/** `server_id` from the config when set (SRS's `server_id`), else a fresh `vid-` id as SRS makes. */
export function newServerIdentity(configured: string | null | undefined): ServerIdentity {
  return { serverId: configured ?? `vid-${randomId(7)}`, serviceId: randomId(8), startedAt: Date.now() };
}
