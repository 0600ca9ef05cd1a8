export { loadConfig, ConfigError, type EnvSchema } from './load-config.js';
export * as env from './env-types.js';
