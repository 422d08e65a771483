#!/usr/bin/env node
/**
 * The command line: `sluice [-c FILE] [-t] [-e] [-v]`, SRS's flags.
 *   no -c   run on the built-in default config (RTMP 1935, API 1985, HTTP 8080)
 *   -t      test the config and exit (non-zero with `file:line: reason` on error)
 *   -e      env-only config (SRS_* variables), no file
 * Signals: SIGTERM/SIGINT stop fast, SIGQUIT stops gracefully, SIGHUP reloads,
 * SIGUSR1 reopens the log file (never Node's inspector).
 */
// First: from here on SIGUSR1 cannot open Node's inspector.
import { onSigusr1, guardInspector, withoutInspectorFlags } from './inspector-guard.js';
import cluster from 'node:cluster';
import { loadConfig, defaultConfig, envOnlyConfig } from '../config/server-config.js';
import { ConfigError } from '../config/parser.js';
import type { ServerConfig } from '../config/server-config.js';
import { createReopenableLogger } from '../log/logger.js';
import { SluiceServer } from './sluice-server.js';
import { VERSION } from '../version.js';
import { acquirePidFile, PidFileBusyError, type PidFile } from './pid-file.js';
import { persistentServerId, serverIdFile } from './server-id-file.js';
import { isMeshMessage, MESH_CHANNEL, MESH_PORT_TAKEN, udpPortInUse, type RelayedMeshMessage } from '../servers/webrtc/rtc-worker-mesh.js';

/** Upper bound of a graceful stop's wait for publishers (ms); SRS waits for ever. */
const GRACEFUL_MAX_WAIT_MS = 30_000;

interface CliArgs {
  configFile: string | null;
  testOnly: boolean;
  envOnly: boolean;
  /** Processes sharing the listen ports (Node's cluster); 1 = this process serves. */
  workers: number;
}

function usage(): string {
  return `Sluice ${VERSION} — realtime media server
Usage: npm start -- [-c FILE] [-t] [-e] [-v] [-h]
  -c FILE  SRS-format config file (default: built-in config)
  -t       test the config and exit
  -e       take the config from SRS_* environment variables only
  -w N     run N worker processes sharing the listen ports (use with an edge
           config: cluster { mode remote; origin ...; } so every worker can
           serve every stream)
  -v       print the version
       npm start -- proxy [-c proxy.conf] [-t]   the proxy tier (docs/CLUSTER.md)`;
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { configFile: null, testOnly: false, envOnly: false, workers: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c') {
      const f = argv[++i];
      if (!f) throw new Error('-c needs a file');
      args.configFile = f;
    } else if (a === '-w' || a === '--workers') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error('--workers needs a count from 1 to 256');
      args.workers = n;
    } else if (a === '-t') args.testOnly = true;
    else if (a === '-e') args.envOnly = true;
    else if (a === '-v' || a === '-V' || a === '--version') {
      console.log(VERSION);
      process.exit(0);
    } else if (a === '-h' || a === '-?' || a === '--help') {
      console.log(usage());
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

/** What the config check found without refusing: legacy conversions, duplicates, and directives Sluice does not act on. */
function configNotes(config: ServerConfig): readonly string[] {
  return [...config.warnings, ...config.inert];
}

function readConfig(args: CliArgs): ServerConfig {
  const env = process.env;
  const file = env['SRS_CONFIG_FILE'] || args.configFile;
  if (args.envOnly || env['SRS_ENV_ONLY']) return envOnlyConfig(env);
  return file ? loadConfig(file, env) : defaultConfig(env);
}

async function main(): Promise<void> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage()}`);
    process.exit(2);
  }
  let config: ServerConfig;
  try {
    config = readConfig(args);
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `config error: ${(err as Error).message}`);
    process.exit(1);
  }
  if (args.testOnly) {
    // A config whose DVR or SRT will never start is not "successful" without a word: one line per such directive.
    for (const w of configNotes(config)) console.warn(`warning: ${w}`);
    console.log(`the config file ${args.configFile ?? '(built-in default)'} syntax is ok`);
    const inert = config.inert.length;
    const note = inert > 0 ? ` (${inert} directive${inert === 1 ? '' : 's'} accepted but not acted on, see the warnings)` : '';
    console.log(`config file ${args.configFile ?? '(built-in default)'} test is successful${note}`);
    process.exit(0);
  }

  // The pid file and the kept server id belong to the process the operator
  // started: a cluster's primary (its workers get the id through the env).
  let serverId: string | undefined;
  if (!cluster.isWorker) {
    const pidFile = holdPidFile(config.pid);
    if (pidFile === null) process.exit(1);
    process.on('exit', () => pidFile.release());
    try {
      serverId = config.serverId ?? persistentServerId(serverIdFile(pidFile.file));
    } catch (err) {
      console.error(`cannot keep the server id next to ${pidFile.file}: ${(err as Error).message}`);
      process.exit(1);
    }
  }

  if (args.workers > 1 && cluster.isPrimary) {
    const logger = createReopenableLogger({ level: config.logLevel, file: config.logTank === 'file' ? config.logFile : undefined }).logger;
    guardInspector(logger);
    // The workers bind the WebRTC UDP port with SO_REUSEPORT, which would share it with another server's workers: look first.
    const rtc = config.rtcServer;
    // TCP only: the workers' gateway binds the port on loopback, where their TCP relays reach it.
    const taken = rtc.enabled && (await udpPortInUse(rtc.listen, rtc.protocol === 'tcp' ? '127.0.0.1' : undefined));
    if (taken) logger.error({ port: rtc.listen }, 'WebRTC UDP port in use by another process; the workers answer WHIP/WHEP with 5021');
    runPrimary(args.workers, serverId, taken);
    return;
  }

  const { logger, reopen } = createReopenableLogger({
    level: config.logLevel,
    file: config.logTank === 'file' ? config.logFile : undefined,
  });
  guardInspector(logger);
  onSigusr1(() => {
    reopen();
    logger.info({ file: config.logTank === 'file' ? config.logFile : null }, 'log file reopened (SIGUSR1)');
  });
  for (const w of configNotes(config)) logger.warn(w);
  const server = new SluiceServer({ config, logger, serverId });

  // Signal handlers before the start: the 'listening' line must never come
  // before SIGQUIT's default action (a core dump) is replaced.
  let stopping = false;
  // Fires when a fast-stop signal comes during a graceful stop: SRS then quits fast.
  const fastNow = new AbortController();
  const exit = (code: number): void => {
    logger.flush();
    setTimeout(() => process.exit(code), 50).unref();
  };
  const stopFast = (signal: string): void => {
    if (stopping) {
      if (!fastNow.signal.aborted) logger.info({ signal }, 'graceful stop turned into a fast stop');
      fastNow.abort();
      return;
    }
    stopping = true;
    logger.info({ signal }, 'fast stop');
    server.stop().then(() => exit(0), () => exit(1));
  };
  process.on('SIGTERM', () => (config.forceGraceQuit ? stopGraceful('SIGTERM') : stopFast('SIGTERM')));
  process.on('SIGINT', () => stopFast('SIGINT'));
  const stopGraceful = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceStartWait: config.graceStartWait, graceFinalWait: config.graceFinalWait }, 'graceful stop');
    const waits = { startWaitMs: config.graceStartWait, finalWaitMs: config.graceFinalWait, maxPublisherWaitMs: GRACEFUL_MAX_WAIT_MS };
    server.stopGracefully(waits, fastNow.signal).then(() => exit(0), () => exit(1));
  };
  process.on('SIGQUIT', () => stopGraceful('SIGQUIT'));
  process.on('SIGHUP', () => {
    try {
      const before = new Set(configNotes(config));
      config = readConfig(args);
      for (const w of configNotes(config)) if (!before.has(w)) logger.warn(w);
      server.reload(config);
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'reload refused, the old config stays');
    }
  });

  try {
    await server.start();
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    logger.flush();
    process.exit(1);
  }

  // One session's bug must not end every other stream: log it with its stack
  // and go on (sessions already end themselves on their own errors).
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception (server goes on)'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection (server goes on)'));
}

/**
 * The primary of a multi-process server: forks the workers (each runs this
 * same command and shares the listen ports through Node's cluster), passes
 * signals on, restarts a worker that dies, and exits when all have stopped.
 */
function runPrimary(count: number, serverId: string | undefined, rtcPortTaken: boolean): void {
  let stopping = false;
  // Workers never inherit a debugger flag, and all report the primary's server id.
  cluster.setupPrimary({ execArgv: withoutInspectorFlags(process.execArgv) });
  const nodeOptions = process.env['NODE_OPTIONS'];
  if (nodeOptions) process.env['NODE_OPTIONS'] = withoutInspectorFlags(nodeOptions.split(/\s+/)).join(' ');
  if (serverId !== undefined) process.env['SRS_SERVER_ID'] = serverId;
  // Decided once: a restarted worker rejoins its siblings' port, which is in use by then.
  if (rtcPortTaken) process.env[MESH_PORT_TAKEN] = '1';
  const fork = (): void => {
    cluster.fork();
  };
  for (let i = 0; i < count; i++) fork();
  // The WebRTC workers' mesh (which worker owns which session on the shared UDP port): every message goes to every other worker.
  const broadcast = (m: RelayedMeshMessage): void => {
    for (const w of Object.values(cluster.workers ?? {})) if (w && w.id !== m.from && w.isConnected()) w.send(m, undefined, { keepOpen: false }, () => {});
  };
  cluster.on('message', (worker, m: unknown) => {
    if (isMeshMessage(m)) broadcast({ ...m, from: worker.id });
  });
  cluster.on('exit', (worker, code, signal) => {
    broadcast({ ch: MESH_CHANNEL, t: 'gone', from: worker.id });
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    console.error(`worker ${worker.process.pid} exited (${code ?? signal}); starting another`);
    setTimeout(fork, 1000);
  });
  const relay = (signal: NodeJS.Signals, stops: boolean): void => {
    if (stops) stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.on('SIGTERM', () => relay('SIGTERM', true));
  process.on('SIGINT', () => relay('SIGTERM', true));
  process.on('SIGQUIT', () => relay('SIGQUIT', true));
  process.on('SIGHUP', () => relay('SIGHUP', false));
  onSigusr1(() => relay('SIGUSR1', false));
}

/** Takes the pid file; null (after saying why on stderr) when another server holds it. */
function holdPidFile(path: string): PidFile | null {
  try {
    return acquirePidFile(path);
  } catch (err) {
    if (err instanceof PidFileBusyError) console.error(`sluice: refusing to start: ${err.message}`);
    else console.error(`sluice: cannot write the pid file ${path}: ${(err as Error).message}`);
    return null;
  }
}

// `sluice proxy ...`: the stateless proxy tier in front of origins, its own small config.
if (process.argv[2] === 'proxy') void import('./proxy-cli.js').then((m) => m.runProxy(process.argv.slice(3)));
else void main();
