import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, freePort, type TestDatabase } from '@mcpgw/test-support';
import { createDb } from '../src/db.js';
import { DATABASE_UNAVAILABLE } from '../src/unavailable.js';

/** A database that cannot be reached is told apart from a bad query (503 versus 500 at the edge). */
describe('database unavailable', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('tags queries, checkouts and transactions on a refused connection', async () => {
    const db = createDb({ url: `postgres://postgres@127.0.0.1:${await freePort()}/test`, schema: 'mcpgw', connectTimeoutMs: 1_000 });
    try {
      await expect(db.query('SELECT 1')).rejects.toMatchObject({ type: DATABASE_UNAVAILABLE });
      await expect(db.pool.query('SELECT 1')).rejects.toMatchObject({ type: DATABASE_UNAVAILABLE });
      await expect(db.withTransaction((c) => c.query('SELECT 1'))).rejects.toMatchObject({ type: DATABASE_UNAVAILABLE });
      expect(await db.ping()).toBe(false);
    } finally {
      await db.close();
    }
  });

  it('leaves a bad query untagged: that one is a bug (500)', async () => {
    const err = await t.db.pool.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { type?: unknown }).type).toBeUndefined();
    const inTx = await t.db.withTransaction((c) => c.query('SELEC 1')).catch((e: unknown) => e);
    expect((inTx as { type?: unknown }).type).toBeUndefined();
  });
});
