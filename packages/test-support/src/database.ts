import pg from 'pg';
import { createDb, createRepos, runMigrations, startEmbeddedPostgres, type Db, type Repos } from '@mcpgw/db';
import { uniqueId } from './util.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** URL of the server; pair it with `schema` (DB_SCHEMA) to reach this test's tables. */
  url: string;
  schema: string;
  db: Db;
  repos: Repos;
  kind: 'postgres' | 'embedded';
  cleanup(): Promise<void>;
}

let probe: Promise<boolean> | undefined;

async function postgresReachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A migrated database of this test's own: a fresh schema on the real Postgres (TEST_DATABASE_URL,
 * default postgres://postgres@127.0.0.1:5432/test), or, where that does not answer, a fresh
 * in-memory embedded Postgres.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_URL;
  probe ??= postgresReachable(serverUrl).then((ok) => {
    if (!ok) process.stderr.write(`[test-support] Postgres at ${serverUrl} is not reachable: tests use the embedded Postgres.\n`);
    return ok;
  });
  const schema = uniqueId('t_');
  if (await probe) {
    const db = createDb({ url: serverUrl, schema, poolMax: 5 });
    await runMigrations(db);
    return {
      url: serverUrl,
      schema,
      db,
      repos: createRepos(db.pool),
      kind: 'postgres',
      async cleanup() {
        await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
        await db.close();
      },
    };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: 'memory://', schema });
  const db = createDb({ url: embedded.url, schema, poolMax: 5 });
  await runMigrations(db);
  return {
    url: embedded.url,
    schema,
    db,
    repos: createRepos(db.pool),
    kind: 'embedded',
    async cleanup() {
      await db.close();
      await embedded.stop();
    },
  };
}
