export { loadConfig, ConfigError, type EnvSchema } from './load-config.js';
export * as env from './env-types.js';
export { readConfigOrExit, checkConfigOrExit, EXIT_CONFIG, type VariableError } from './exit-on-config-error.js';
