#!/usr/bin/env node
/**
 * The command line: `sluice [-c FILE] [-t] [-e] [-v]`, SRS's flags.
 *   no -c   run on the built-in default config (RTMP 1935, API 1985, HTTP 8080)
 *   -t      test the config and exit (non-zero with `file:line: reason` on error)
 *   -e      env-only config (SRS_* variables), no file
 * Signals: SIGTERM/SIGINT stop fast, SIGQUIT stops gracefully, SIGHUP reloads.
 */
import { loadConfig, defaultConfig, envOnlyConfig } from './config/server-config.js';
import { ConfigError } from './config/parser.js';
import type { ServerConfig } from './config/server-config.js';
import { createLogger } from './log/logger.js';
import { SluiceServer } from './server/sluice-server.js';
import { VERSION } from './version.js';

/** Upper bound of a graceful stop: publishers get this long to finish (ms). */
const GRACEFUL_MAX_WAIT_MS = 30_000;

interface CliArgs {
  configFile: string | null;
  testOnly: boolean;
  envOnly: boolean;
}

function usage(): string {
  return `Sluice ${VERSION} — realtime media server
Usage: npm start -- [-c FILE] [-t] [-e] [-v] [-h]
  -c FILE  SRS-format config file (default: built-in config)
  -t       test the config and exit
  -e       take the config from SRS_* environment variables only
  -v       print the version`;
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { configFile: null, testOnly: false, envOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c') {
      const f = argv[++i];
      if (!f) throw new Error('-c needs a file');
      args.configFile = f;
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
    console.log(`the config file ${args.configFile ?? '(built-in default)'} syntax is ok`);
    console.log(`config file ${args.configFile ?? '(built-in default)'} test is successful`);
    process.exit(0);
  }

  const logger = createLogger({
    level: config.logLevel,
    file: config.logTank === 'file' ? config.logFile : undefined,
  });
  const server = new SluiceServer({ config, logger });
  try {
    await server.start();
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    logger.flush();
    process.exit(1);
  }

  let stopping = false;
  const exit = (code: number): void => {
    logger.flush();
    setTimeout(() => process.exit(code), 50).unref();
  };
  const stopFast = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'fast stop');
    server.stop().then(() => exit(0), () => exit(1));
  };
  process.on('SIGTERM', () => (config.forceGraceQuit ? stopGraceful('SIGTERM') : stopFast('SIGTERM')));
  process.on('SIGINT', () => stopFast('SIGINT'));
  const stopGraceful = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'graceful stop');
    server.stopGracefully(GRACEFUL_MAX_WAIT_MS).then(() => exit(0), () => exit(1));
  };
  process.on('SIGQUIT', () => stopGraceful('SIGQUIT'));
  process.on('SIGHUP', () => {
    try {
      config = readConfig(args);
      server.reload(config);
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'reload refused, the old config stays');
    }
  });
}

void main();
