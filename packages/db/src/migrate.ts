import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Logger } from '@mcpgw/logger';
import { quoteIdent, type Db } from './db.js';

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
const FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => FILE.test(f)).sort();
  return Promise.all(
    files.map(async (name) => {
      const sql = await readFile(path.join(dir, name), 'utf8');
      return { version: Number(name.slice(0, 4)), name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/** A stable 63-bit advisory-lock key per schema, so different schemas never wait on each other. */
function lockKey(schema: string): string {
  return BigInt.asIntN(64, BigInt('0x' + createHash('sha256').update(`mcpgw-migrate:${schema}`).digest('hex').slice(0, 16))).toString();
}

/**
 * Applies pending migrations in one transaction under a transaction-level advisory lock, so any
 * number of services starting at once apply each migration exactly once; the others wait, then see
 * nothing left to do. A changed checksum of an applied migration stops start-up.
 */
export async function runMigrations(db: Db, logger?: Logger): Promise<string[]> {
  const migrations = await loadMigrations();
  const schema = quoteIdent(db.schema);
  return db.withTransaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [lockKey(db.schema)]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET LOCAL search_path TO ${schema}, public`);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM schema_migrations',
    );
    const applied = new Map(rows.map((r) => [r.version, r]));
    const done: string[] = [];
    for (const m of migrations) {
      const prior = applied.get(m.version);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
      done.push(m.name);
    }
    if (done.length > 0) logger?.info('database migrations applied', { schema: db.schema, migrations: done });
    return done;
  });
}
