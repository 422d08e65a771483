/**
 * Sluice as a library: embed the server in a Node.js application.
 *
 *   import { SluiceServer, parseConfigText } from 'sluice';
 *   const server = new SluiceServer({ config: parseConfigText('listen 1935; vhost __defaultVhost__ {}', 'inline', {}) });
 *   await server.start();
 */
export { SluiceServer, type SluiceServerOptions, type ListeningPorts, type GracefulWaits } from './sluice-server.js';
export { loadConfig, parseConfigText, defaultConfig } from '../config/server-config.js';
// The typed config view, for applications that build or read a config.
export type {
  ServerConfig,
  LogLevel,
  HttpsConfig,
  HttpApiConfig,
  HttpServerConfig,
  RtcServerConfig,
  SrtServerConfig,
  ExporterConfig,
  HeartbeatConfig,
  StatsConfig,
  CircuitBreakerConfig,
  StreamCasterConfig,
  LoadOptions,
} from '../config/server-config.js';
export type {
  VhostConfig,
  TimeJitter,
  PlayConfig,
  PublishConfig,
  HttpRemuxConfig,
  HttpStaticConfig,
  HlsConfig,
  HdsConfig,
  DashConfig,
  DvrConfig,
  HttpHooksConfig,
  SecurityRule,
  SecurityConfig,
  ReferConfig,
  ForwardConfig,
  ClusterConfig,
  VhostRtcConfig,
  VhostSrtConfig,
  ExecConfig,
  FfmpegOption,
  TranscodeEngineConfig,
  IngestConfig,
  TranscodeConfig,
} from '../config/vhost-config.js';
export type { Endpoint } from '../config/endpoint.js';
export { ConfigError } from '../config/parser.js';
export { createLogger, silentLogger } from '../log/logger.js';
export { LiveSource, type SourceObserver } from '../live/live-source.js';
export { MediaFrame } from '../codec/media-frame.js';
export { VERSION } from '../version.js';
