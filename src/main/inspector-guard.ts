/**
 * No signal, flag or request may leave Node's inspector open: it listens on
 * TCP (127.0.0.1:9229), which any local user can connect to and then run code
 * as the server's user. Node opens it on SIGUSR1 unless SIGUSR1 has a
 * listener, so this module installs one the moment it is loaded (cli.ts
 * imports it first) and hands the signal to the log reopen once the logger
 * exists. An inspector opened before that (NODE_OPTIONS=--inspect, a SIGUSR1
 * in the first milliseconds) is found and closed by `guardInspector`.
 */
import inspector from 'node:inspector';
import type { Logger } from '../log/logger.js';

let usr1: () => void = () => undefined;
process.on('SIGUSR1', () => usr1());

/** What SIGUSR1 does from now on (SRS: reopen the log file). */
export function onSigusr1(handler: () => void): void {
  usr1 = handler;
}

/** How often an inspector opened behind our back is looked for (ms). */
const CHECK_MS = 1000;

/** Closes an open inspector now and whenever one is found later; returns a stop function. */
export function guardInspector(log: Logger): () => void {
  const check = (): void => {
    const url = inspector.url();
    if (url === undefined) return;
    log.error({ url }, 'a debugger (inspector) was open on this server; closing it: never run the server with --inspect');
    inspector.close();
  };
  check();
  const timer = setInterval(check, CHECK_MS);
  timer.unref();
  return () => clearInterval(timer);
}

const INSPECT_FLAG = /^--(inspect|inspect-brk|inspect-wait|inspect-port|debug-port)(=|$)/;

/** Node flags without the inspector ones, for the processes this one starts (cluster workers). */
export function withoutInspectorFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const a = args[k]!;
    if (!INSPECT_FLAG.test(a)) out.push(a);
    // `--inspect-port 9230` takes its value as the next argument.
    else if (!a.includes('=') && /^--(inspect-port|debug-port)$/.test(a)) k++;
  }
  return out;
}
