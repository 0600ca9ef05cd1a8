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

/** An error of a start-up check that names the variable at fault (e.g. MASTER_KEYS). */
export interface VariableError extends Error {
  variable: string;
}
const isVariableError = (err: unknown): err is VariableError => err instanceof Error && typeof (err as Partial<VariableError>).variable === 'string';

/**
 * For main.ts: a configuration check that needs the database (the master-key check values) runs
 * after the migrations; an error naming a variable stops the process with 78 like a bad env.
 */
export async function checkConfigOrExit(service: string, check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (err) {
    if (!isVariableError(err)) throw err;
    process.stderr.write(`${service}: invalid configuration:\n  - ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}
