import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@mcpgw/db';

/**
 * The embedded database of `npm start` is one PGlite backend behind a socket server. Several
 * services' pools send parameterised queries (Parse, Bind, Execute, Sync) at the same moment; each
 * must get its own answer, never "unnamed prepared statement does not exist".
 */
describe('embedded Postgres under concurrent parameterised queries', () => {
  let embedded: EmbeddedPostgres;
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    embedded = await startEmbeddedPostgres({ dataDir: 'memory://' });
    for (let i = 0; i < 3; i++) pools.push(new pg.Pool({ connectionString: embedded.url, max: 5 }));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await embedded?.stop();
  });

  it('600 queries from 15 connections at once: every one answered with its own value', async () => {
    const answers = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        pools[i % pools.length]!.query<{ n: number; s: string }>('SELECT $1::int + 1 AS n, $2::text AS s', [i, `q${i}`]).then(
          (r) => r.rows[0],
          (err: Error) => ({ n: -1, s: err.message }),
        ),
      ),
    );
    const wrong = answers.map((a, i) => ({ i, a })).filter(({ a, i }) => a?.n !== i + 1 || a?.s !== `q${i}`);
    expect(wrong.slice(0, 3)).toEqual([]);
  });

  it('a transaction on one connection keeps its statements together while others query', async () => {
    const client = await pools[0]!.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE t (v int)');
      const others = Promise.all(Array.from({ length: 50 }, (_, i) => pools[1]!.query('SELECT $1::int AS v', [i])));
      await client.query('INSERT INTO t VALUES ($1)', [7]);
      expect((await client.query('SELECT v FROM t')).rows).toEqual([{ v: 7 }]);
      await client.query('COMMIT');
      expect((await others).map((r) => r.rows[0].v)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    } finally {
      client.release();
    }
  });
});
