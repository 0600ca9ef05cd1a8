import { ConfigError } from './load-config.js';

/** EX_CONFIG from sysexits.h: the exit code of every mcpgw process started with a bad config. */
export const EXIT_CONFIG = 78;

/**
 * For main.ts: reads the config, or prints the one message that names every bad variable and exits
 * with 78. Any other error is thrown as usual.
 */
export function readConfigOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}
