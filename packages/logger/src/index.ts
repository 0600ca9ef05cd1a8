export { createLogger, type Logger } from './logger.js';
export { redact, isSecretKey } from './redact.js';
