/**
 * The identity a server shows to the outside (API envelope, hook bodies,
 * exporter labels): `server_id`, `service_id`, start time. One per
 * ServerContext; the first to ask (the API server, given the ids by
 * SluiceServer) fixes it, so hooks and API always agree.
 */
import { randomId } from '../log/logger.js';
import type { ServerContext } from './server-context.js';

export interface ServerIdentity {
  serverId: string;
  serviceId: string;
  startedAt: number;
}

const identities = new WeakMap<ServerContext, ServerIdentity>();

export function serverIdentity(ctx: ServerContext, preferred?: ServerIdentity): ServerIdentity {
  let id = identities.get(ctx);
  if (!id) {
    id = preferred ?? { serverId: ctx.config.serverId ?? `vid-${randomId(7)}`, serviceId: randomId(8), startedAt: Date.now() };
    identities.set(ctx, id);
  }
  return id;
}
