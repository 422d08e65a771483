/**
 * What plugs into a server (a protocol wing, an output, an operations part).
 * Each is installed once when the server starts: it may add session policies,
 * source observers, HTTP routes, listeners of its own, and a stop function.
 * The composition root (main/features.ts) lists them; this file only says
 * what one is, so that no feature imports the list that imports it.
 */
import type { ServerContext } from './server-context.js';

export interface FeatureHandle {
  /** Called on reload with the new config already in ctx.config. */
  reload?(): void;
  /** Called on a graceful stop once the listeners are closed, before the wait for publishers (SRS stops its ingesters here: they are publishers that never finish). */
  onListenersClosed?(): Promise<void> | void;
  /** Called on stop; release listeners, timers, child processes. */
  stop?(): Promise<void> | void;
}

export interface Feature {
  readonly name: string;
  install(ctx: ServerContext): Promise<FeatureHandle> | FeatureHandle;
}
