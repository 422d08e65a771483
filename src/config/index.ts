// Public surface of the config module.

export { ConfigError, parseConfigTree, parseConfigFile, type ConfigDirective, type IncludeReader } from './parser.js';
export { parseEndpoint, formatEndpoint, endpointEquals, type Endpoint } from './endpoint.js';
export { validateConfig, transformLegacy } from './validate.js';
export * from './server-config.js';
export { diffConfig, type ConfigChange, type VhostSection } from './reload.js';
export { DEFAULT_CONFIG_TEXT } from './default-config-text.js';
