import pg from 'pg';
import type { Logger } from '@mcpgw/logger';
import { tagUnavailable } from './unavailable.js';

export interface DbConfig {
  url: string;
  /** Schema holding mcpgw's tables; search_path is set to it on every connection. */
  schema: string;
  poolMax?: number;
  /** Statement timeout for every query on this pool, in ms (0: none). */
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** A pool or a client inside a transaction: every repository function accepts either. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export interface Db {
  readonly pool: pg.Pool;
  readonly schema: string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  withTransaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** True when a trivial query answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`invalid SQL identifier: ${name}`);
  return `"${name}"`;
}

// Return timestamps as Date and bigint counts as numbers where they fit (counts, ids of logs).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
});

export function createDb(config: DbConfig, logger?: Logger): Db {
  const schema = quoteIdent(config.schema);
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolMax ?? 10,
    connectionTimeoutMillis: config.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    statement_timeout: config.statementTimeoutMs || undefined,
    // Sent in the start-up packet, so every connection has it without an extra round trip.
    // (The embedded Postgres ignores start-up options; it sets the path itself, see embedded.ts.)
    options: `-c search_path=${schema},public`,
  });
  pool.on('error', (err) => logger?.warn('idle database connection failed', { err: err.message }));
  // Every query through the pool (repositories call pool.query directly) and every checkout:
  // a lost database becomes a tagged error that the error middleware answers with 503.
  const poolQuery = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  pool.query = ((...args: unknown[]) => {
    const result = poolQuery(...args);
    return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(tagUnavailable(err))) : result;
  }) as typeof pool.query;
  const poolConnect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  pool.connect = ((...args: unknown[]) => {
    const result = poolConnect(...args);
    return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(tagUnavailable(err))) : result;
  }) as typeof pool.connect;

  return {
    pool,
    schema: config.schema,
    query: (text, params) => pool.query(text, params),
    async withTransaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw tagUnavailable(err);
      } finally {
        client.release();
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    close: () => pool.end(),
  };
}

/** The URL without its password, for start-up logs. */
export function describeDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}
