export { loadConfig, ConfigError, type EnvSchema } from './load-config.js';
export * as env from './env-types.js';
export { readConfigOrExit, EXIT_CONFIG } from './exit-on-config-error.js';
