/**
 * `sluice proxy [-c FILE] [-t]`: the proxy tier in front of origins
 * (src/proxy). Its config is a small file and/or SRS proxy's PROXY_*
 * environment (see src/proxy/proxy-config.ts). SIGTERM/SIGINT stop it.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../log/logger.js';
import { parseProxyConfig, type ProxyConfig } from '../proxy/proxy-config.js';
import { ProxyService } from '../proxy/proxy-service.js';
import { guardInspector } from './inspector-guard.js';

const USAGE = `Usage: sluice proxy [-c proxy.conf] [-t]
  -c FILE  the proxy's config (rtmp_server, rtmps_server, srt_server, http_server, system_api, load_balancer, redis {...}, origin_ttl)
  -t       test the config and exit
  PROXY_* environment variables override the file (docs/CLUSTER.md)`;

export async function runProxy(argv: string[]): Promise<void> {
  let file: string | null = null;
  let testOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-c' && argv[i + 1]) file = argv[++i]!;
    else if (a === '-t') testOnly = true;
    else {
      console.error(`${a === '-h' || a === '--help' ? '' : `unknown argument ${a}\n`}${USAGE}`);
      process.exit(a === '-h' || a === '--help' ? 0 : 2);
    }
  }
  let config: ProxyConfig;
  try {
    config = parseProxyConfig(file === null ? null : readFileSync(file, 'utf8'), file ?? '(env)', process.env);
  } catch (err) {
    console.error(`proxy config error: ${(err as Error).message}`);
    process.exit(1);
  }
  if (testOnly) {
    for (const w of config.inert) console.warn(`warning: ${w}`);
    console.log(`the proxy config ${file ?? '(env)'} is ok`);
    process.exit(0);
  }
  const logger = createLogger({ level: 'info' });
  // As the server: SIGUSR1 (cli.ts imports the guard first) never opens a debugger, and one opened anyway is closed.
  guardInspector(logger);
  for (const w of config.inert) logger.warn(w);
  const service = new ProxyService(config, logger);
  const stop = (signal: string): void => {
    logger.info({ signal }, 'proxy: stopping');
    void service.stop().finally(() => {
      logger.flush();
      setTimeout(() => process.exit(0), 50).unref();
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    logger.info('proxy: SIGHUP, reading the RTMPS key and certificate again');
    service.reloadCertificates();
  });
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception (proxy goes on)'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection (proxy goes on)'));
  try {
    const ports = await service.start();
    logger.info({ ...ports, loadBalancer: config.loadBalancer }, 'proxy listening');
  } catch (err) {
    logger.fatal({ err }, 'proxy cannot start');
    logger.flush();
    process.exit(1);
  }
}
