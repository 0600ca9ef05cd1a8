/**
 * Errors that mean "the database cannot be reached right now" (refused, reset, cut by a restart,
 * still starting, no connection within the pool's timeout), as opposed to a bad query. They are
 * tagged with `type: 'database.unavailable'`, the convention body-parser uses for its errors, so
 * every service's one error middleware answers 503 with Retry-After instead of 500, without
 * @mcpgw/http knowing about pg.
 */
export const DATABASE_UNAVAILABLE = 'database.unavailable';

const CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01', // admin_shutdown: the server was stopped
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08006', // connection_failure
  '53300', // too_many_connections
]);

/** pg's own messages for a connection lost or never made (they carry no code). */
const MESSAGES = ['Connection terminated', 'timeout exceeded when trying to connect', 'Client has encountered a connection error', 'Client was closed'];

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const { code } = err as { code?: unknown };
  if (typeof code === 'string' && CODES.has(code)) return true;
  // AggregateError (every address refused) and errors wrapped by pg keep the cause inside.
  if (err instanceof AggregateError && err.errors.some(isDatabaseUnavailable)) return true;
  return MESSAGES.some((m) => err.message.startsWith(m));
}

/** Tags `err` when it means the database is unreachable; returns it for `throw`. */
export function tagUnavailable(err: unknown): unknown {
  if (isDatabaseUnavailable(err) && (err as { type?: unknown }).type === undefined) {
    Object.defineProperty(err, 'type', { value: DATABASE_UNAVAILABLE, enumerable: false, configurable: true });
  }
  return err;
}
