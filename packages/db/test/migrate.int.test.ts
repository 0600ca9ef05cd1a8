import { afterEach, describe, expect, it } from 'vitest';
import { createDb, runMigrations, loadMigrations, startEmbeddedPostgres, createRepos } from '@mcpgw/db';
import { createTestDatabase, uniqueId, type TestDatabase } from '@mcpgw/test-support';

describe('migrations', () => {
  let t: TestDatabase | undefined;
  afterEach(async () => {
    await t?.cleanup();
    t = undefined;
  });

  it('creates every table the design names', async () => {
    t = await createTestDatabase();
    const { rows } = await t.db.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [t.schema],
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'users', 'groups', 'group_memberships', 'servers', 'group_server_access', 'tenants', 'tenant_keys',
        'tenant_endpoints', 'api_keys', 'analytics_events', 'audit_log', 'security_events', 'schema_migrations',
      ]),
    );
  });

  it('applies each migration exactly once when several services start at the same moment', async () => {
    t = await createTestDatabase();
    // A second schema, migrated concurrently by five "services" at once.
    const schema = uniqueId('t_');
    const pools = Array.from({ length: 5 }, () => createDb({ url: t!.url, schema, poolMax: 2 }));
    try {
      const results = await Promise.all(pools.map((db) => runMigrations(db)));
      const applied = results.flat();
      expect(applied).toEqual((await loadMigrations()).map((m) => m.name));
      const { rows } = await pools[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]!.n).toBe((await loadMigrations()).length);
    } finally {
      await pools[0]!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all(pools.map((db) => db.close()));
    }
  });

  it('refuses to start when an applied migration was edited', async () => {
    t = await createTestDatabase();
    await t.db.query("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1");
    await expect(runMigrations(t.db)).rejects.toThrow(/was changed after it was applied/);
  });

  it('stores only the hash of an API key and resolves its principal with groups and admin flag', async () => {
    t = await createTestDatabase();
    const { repos } = t;
    const user = await repos.users.create({ email: `${uniqueId()}@x.test`, source: 'local' });
    const admins = await repos.groups.create({ name: uniqueId('Admins-'), isAdmin: true });
    await repos.groups.addMember(admins.id, user.id);
    await repos.apiKeys.create({ userId: user.id, keyHash: 'a'.repeat(64), prefix: 'mcpgw_abc' });
    const p = await repos.apiKeys.findPrincipalByHash('a'.repeat(64));
    expect(p).toMatchObject({ userId: user.id, admin: true, groups: [admins.name], enabled: true });
    await expect(repos.apiKeys.create({ userId: user.id, keyHash: 'not-a-hash', prefix: 'x' })).rejects.toThrow();
  });
});

describe('embedded Postgres', () => {
  it('persists data under its folder across restarts and speaks the pg wire protocol', async () => {
    const dir = `${process.env.TMPDIR ?? '/tmp'}/${uniqueId('mcpgw-pg-')}`;
    let pg = await startEmbeddedPostgres({ dataDir: dir, schema: 'mcpgw' });
    let db = createDb({ url: pg.url, schema: 'mcpgw' });
    await runMigrations(db);
    await createRepos(db.pool).tenants.create({ id: 'acme', name: 'Acme' });
    await db.close();
    await pg.stop();

    pg = await startEmbeddedPostgres({ dataDir: dir, schema: 'mcpgw' });
    db = createDb({ url: pg.url, schema: 'mcpgw' });
    expect(await runMigrations(db)).toEqual([]);
    expect(await createRepos(db.pool).tenants.findById('acme')).toEqual({ id: 'acme', name: 'Acme' });
    await db.close();
    await pg.stop();
  });
});
