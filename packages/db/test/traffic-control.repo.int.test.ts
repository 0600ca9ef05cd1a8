import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, createDb, runMigrations, type AnalyticsEvent } from '@mcpgw/db';
import { createFixtures, createTestDatabase, uniqueId, type TestDatabase } from '@mcpgw/test-support';

const event = (over: Partial<AnalyticsEvent> = {}): AnalyticsEvent => ({
  ts: new Date(),
  requestId: uniqueId('r'),
  userId: null,
  userEmail: null,
  tenantId: null,
  method: 'POST',
  endpoint: '/mcp',
  mcpMethod: 'tools/call',
  serverId: 'demo',
  tool: 'echo',
  status: 200,
  latencyMs: 1.5,
  bytesIn: 100,
  bytesOut: 200,
  userAgent: 'test',
  clientIp: '127.0.0.1',
  ...over,
});

describe('traffic-control repositories (migration 0003)', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  const tenant = async () => t.repos.tenants.create({ id: uniqueId('tn-'), name: 'T' });
  const server = async () =>
    t.repos.servers.create({ id: uniqueId('s-'), name: 'S', transport: 'streamable-http', url: 'http://127.0.0.1:1/mcp' });

  it('stores tenant and tool rules, refuses inconsistent ones and a second rule for the same target', async () => {
    const tn = await tenant();
    const s = await server();
    const rules = t.repos.rateLimitRules;
    const tenantRule = await rules.create({ scope: 'tenant', tenantId: tn.id, points: 500, windowSeconds: 60 });
    expect(tenantRule).toMatchObject({ scope: 'tenant', tenantId: tn.id, per: 'tenant', points: 500, windowSeconds: 60, enabled: true });
    const toolRule = await rules.create({ scope: 'tool', serverId: s.id, tool: 'echo', points: 5, windowSeconds: 10 });
    expect(toolRule).toMatchObject({ scope: 'tool', tenantId: null, serverId: s.id, tool: 'echo', per: 'user' });

    await expect(rules.create({ scope: 'tenant', points: 1, windowSeconds: 1 })).rejects.toThrow(/check/i);
    await expect(rules.create({ scope: 'tool', points: 1, windowSeconds: 1 })).rejects.toThrow(/check/i);
    await expect(rules.create({ scope: 'tool', serverId: s.id, points: 0, windowSeconds: 1 })).rejects.toThrow(/check/i);
    await expect(rules.create({ scope: 'tool', serverId: s.id, tool: 'echo', points: 9, windowSeconds: 9 })).rejects.toThrow(/duplicate|unique/i);
    // the same tool counted per tenant is another target
    await rules.create({ scope: 'tool', serverId: s.id, tool: 'echo', per: 'tenant', points: 9, windowSeconds: 9 });

    const updated = await rules.update(toolRule.id, { points: 7, enabled: false });
    expect(updated).toMatchObject({ points: 7, windowSeconds: 10, enabled: false });
    expect((await rules.listEnabled('tool')).map((r) => r.id)).not.toContain(toolRule.id);
    expect((await rules.listEnabled('tenant')).map((r) => r.id)).toContain(tenantRule.id);
    expect(await rules.remove(toolRule.id)).toMatchObject({ id: toolRule.id });
    expect(await rules.findById(toolRule.id)).toBeNull();
  });

  it('blocks users and keys, replaces a repeated block, ignores expired ones', async () => {
    const fx = createFixtures(t.repos);
    const a = await fx.user();
    const b = await fx.user();
    const blocks = t.repos.accessBlocks;
    const userBlock = await blocks.create({ userId: a.user.id }, { reason: 'abuse', createdBy: 'admin@x.test' });
    const again = await blocks.create({ userId: a.user.id }, { reason: 'still abuse' });
    expect(again.id).toBe(userBlock.id);
    expect(again.reason).toBe('still abuse');
    await blocks.create({ apiKeyId: b.keyId }, { reason: 'leaked' });
    const c = await fx.user();
    await blocks.create({ userId: c.user.id }, { expiresAt: new Date(Date.now() - 1000) });

    const active = await blocks.loadActive();
    expect(active.users.get(a.user.id)?.reason).toBe('still abuse');
    expect(active.users.has(c.user.id)).toBe(false);
    const [hash] = [...active.keyHashes].find(([, blk]) => blk.apiKeyId === b.keyId) ?? [];
    expect(hash).toMatch(/^[0-9a-f]{64}$/);

    expect(await blocks.remove(userBlock.id)).toMatchObject({ userId: a.user.id });
    expect((await blocks.loadActive()).users.has(a.user.id)).toBe(false);
  });

  it('writes a batch of analytics rows in one statement and purges old ones in bounded batches', async () => {
    const old = new Date(Date.now() - 100 * 86_400_000);
    const marker = uniqueId('ua-');
    const rows = [
      ...Array.from({ length: 25 }, () => event({ ts: old, userAgent: marker })),
      ...Array.from({ length: 5 }, () => event({ userAgent: marker, userEmail: 'ä@x.test', tool: null, mcpMethod: null, bytesIn: 3_000_000_000 })),
    ];
    await t.repos.analytics.insertBatch(rows);
    const count = async () =>
      (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_events WHERE user_agent = $1', [marker])).rows[0]!.n;
    expect(await count()).toBe(30);
    const { rows: stored } = await t.db.query('SELECT user_email, bytes_in, tool FROM analytics_events WHERE user_agent = $1 AND tool IS NULL', [marker]);
    expect(stored[0]).toMatchObject({ user_email: 'ä@x.test', bytes_in: 3_000_000_000, tool: null });

    const cutoff = new Date(Date.now() - 90 * 86_400_000);
    expect(await t.repos.analytics.purgeOlderThan(cutoff, 10)).toBe(10);
    expect(await t.repos.analytics.purgeOlderThan(cutoff, 10)).toBe(10);
    expect(await t.repos.analytics.purgeOlderThan(cutoff, 10)).toBe(5);
    expect(await t.repos.analytics.purgeOlderThan(cutoff, 10)).toBe(0);
    expect(await count()).toBe(5);
  });

  it('finds security events by time, user id or email, kind and IP, newest first, paged', async () => {
    const userId = (await createFixtures(t.repos).user()).user.id;
    const email = `${uniqueId('sec-')}@x.test`;
    for (const kind of ['unauthenticated', 'rate-limited', 'rate-limited', 'blocked']) {
      await t.repos.securityEvents.insert({ kind, reason: 'r', service: 'gateway', userId, userEmail: email, clientIp: '10.9.9.9' });
    }
    const byUser = await t.repos.securityEvents.search({ userId });
    expect(byUser.map((e) => e.kind)).toEqual(['blocked', 'rate-limited', 'rate-limited', 'unauthenticated']);
    expect((await t.repos.securityEvents.search({ userEmail: email.toUpperCase(), kinds: ['rate-limited'] })).length).toBe(2);
    const page1 = await t.repos.securityEvents.search({ userId, limit: 3 });
    const page2 = await t.repos.securityEvents.search({ userId, limit: 3, beforeId: page1.at(-1)!.id });
    expect(page2.map((e) => e.kind)).toEqual(['unauthenticated']);
    expect(await t.repos.securityEvents.search({ userId, since: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(await t.repos.securityEvents.search({ userId, until: new Date(Date.now() - 60_000) })).toEqual([]);
    expect((await t.repos.securityEvents.search({ clientIp: '10.9.9.9', userId })).length).toBe(4);
  });
});

describe('migration 0003 on the embedded Postgres', () => {
  it('applies (BRIN autosummarize included)', async () => {
    const schema = uniqueId('t_');
    const embedded = await startEmbeddedPostgres({ dataDir: 'memory://', schema });
    const db = createDb({ url: embedded.url, schema, poolMax: 2 });
    try {
      const applied = await runMigrations(db);
      expect(applied).toContain('0003_traffic_control.sql');
    } finally {
      await db.close();
      await embedded.stop();
    }
  });
});
