import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, verifyMasterKeys, type MasterKey } from '@mcpgw/crypto';
import { createCiphertextRepo, createMasterKeyCheckRepo, ENCRYPTED_COLUMNS } from '@mcpgw/db';
import { tenantKeyAad } from '@mcpgw/mcp-proxy';
import { createTestDatabase, uniqueId, type TestDatabase } from '@mcpgw/test-support';
import { EXIT, runCli } from '@mcpgw/cli';

/**
 * Matrix row C5, the master-key rotation drill: 10,000 tenant keys and a token-signing key on k1;
 * the services move to MASTER_KEYS=k2,k1; `mcpgw rewrap` moves every value to k2 while readers
 * decrypt the way mcp-proxy does for tools/call; afterwards nothing is on k1, so k1 can go.
 */
const KEYS = 10_000;
const k1: MasterKey = { id: 'k1', key: randomBytes(32) };
const k2: MasterKey = { id: 'k2', key: randomBytes(32) };
const env = (keys: MasterKey[], t: TestDatabase) => ({
  DATABASE_URL: t.url,
  DB_SCHEMA: t.schema,
  MASTER_KEYS: keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(','),
});

let t: TestDatabase;
const serverId = uniqueId('srv');
const tenants: string[] = [];
const plaintext = (tenant: string) => `CANARY-tenant-key-${tenant}`;

async function mcpgw(e: Record<string, string>, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env: e, home: '/nonexistent', out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  t = await createTestDatabase();
  await t.repos.servers.create({ id: serverId, name: 'Rotation', transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp' });
  for (let i = 0; i < KEYS; i++) tenants.push(`ten-${i.toString().padStart(5, '0')}`);
  const old = createKeyring([k1]);
  await t.db.query('INSERT INTO tenants (id, name) SELECT id, id FROM unnest($1::text[]) AS id', [tenants]);
  await t.db.query(
    `INSERT INTO tenant_keys (tenant_id, server_id, ciphertext, key_id, last4)
     SELECT tenant, $2, ct, 'k1', 'xxxx' FROM unnest($1::text[], $3::text[]) AS v(tenant, ct)`,
    [tenants, serverId, tenants.map((id) => old.encrypt(plaintext(id), tenantKeyAad(id, serverId)))],
  );
  await t.repos.signingKeys.create({ kid: 'signing-kid-1', alg: 'ES256', publicJwk: { kty: 'EC' }, privateKey: old.encrypt('PEM-CANARY', 'signing-key:signing-kid-1') });
  // The services ran with k1 alone: its check value is recorded.
  await verifyMasterKeys([k1], createMasterKeyCheckRepo(t.db.pool));
}, 60_000);
afterAll(async () => {
  await t?.cleanup();
});

describe('mcpgw rewrap (C5)', () => {
  it('refuses while no service has started with the new key', async () => {
    const r = await mcpgw(env([k2, k1], t), 'rewrap');
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('no service has started with key "k2" yet');
    expect((await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM tenant_keys WHERE ciphertext LIKE 'v1.k2.%'")).rows[0]!.n).toBe(0);
  });

  it('refuses a wrong old key (key check value) without touching a row', async () => {
    const wrongK1: MasterKey = { id: 'k1', key: randomBytes(32) };
    const r = await mcpgw(env([k2, wrongK1], t), 'rewrap', '--force');
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('MASTER_KEYS is wrong: key id "k1"');
    expect((await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM tenant_keys WHERE key_id = 'k1'")).rows[0]!.n).toBe(KEYS);
  });

  it(`moves ${KEYS} tenant keys and the signing key to k2 while readers keep decrypting, and reports 0 values on k1`, async () => {
    // The services restart with MASTER_KEYS=k2,k1: k2's check value is recorded.
    await verifyMasterKeys([k2, k1], createMasterKeyCheckRepo(t.db.pool));
    const before = await mcpgw(env([k2, k1], t), 'master-keys');
    expect(before.out).toContain(`key k1: ${KEYS + 1} value(s)`);

    // Readers: the decrypt mcp-proxy does for each tools/call (find the tenant key, decrypt it).
    const reader = createKeyring([k2, k1]);
    let done = false;
    let decrypts = 0;
    const errors: string[] = [];
    const sawKeys = new Set<string>();
    const readers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; !done; i += 8) {
        const tenant = tenants[(i * 7919) % KEYS]!;
        try {
          const key = await t.repos.tenants.findKey(tenant, serverId);
          sawKeys.add(key!.ciphertext.split('.')[1]!);
          if (reader.decrypt(key!.ciphertext, tenantKeyAad(tenant, serverId)) !== plaintext(tenant)) errors.push(`${tenant}: wrong plaintext`);
          decrypts++;
        } catch (err) {
          errors.push(`${tenant}: ${(err as Error).message}`);
        }
      }
    });

    const started = performance.now();
    const r = await mcpgw(env([k2, k1], t), 'rewrap', '--batch-size', '500', '--json');
    const ms = Math.round(performance.now() - started);
    done = true;
    await Promise.all(readers);

    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ currentKeyId: 'k2', rewrapped: KEYS + 1, failed: [] });
    expect(report.remaining).toEqual([
      { column: 'tenant_keys.ciphertext', keyId: 'k2', count: KEYS },
      { column: 'signing_keys.private_key', keyId: 'k2', count: 1 },
    ]);
    expect(errors).toEqual([]);
    expect(decrypts).toBeGreaterThan(0);
    // Progress went to stderr, one line per batch.
    expect(r.err.split('\n').filter((l) => l.includes('rewrapped so far')).length).toBeGreaterThanOrEqual(KEYS / 500);
    process.stdout.write(`[C5] rewrap of ${KEYS + 1} values: ${ms} ms; ${decrypts} concurrent decrypts (keys seen: ${[...sawKeys].sort().join(',')}), ${errors.length} errors\n`);

    // key_id follows the ciphertext; the values decrypt with k2 alone now: k1 can be retired.
    expect((await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM tenant_keys WHERE key_id <> 'k2'")).rows[0]!.n).toBe(0);
    const onlyK2 = createKeyring([k2]);
    const sample = await t.repos.tenants.findKey(tenants[4242]!, serverId);
    expect(onlyK2.decrypt(sample!.ciphertext, tenantKeyAad(tenants[4242]!, serverId))).toBe(plaintext(tenants[4242]!));
    const signing = (await t.db.query<{ private_key: string }>('SELECT private_key FROM signing_keys')).rows[0]!;
    expect(onlyK2.decrypt(signing.private_key, 'signing-key:signing-kid-1')).toBe('PEM-CANARY');

    const after = await mcpgw(env([k2, k1], t), 'master-keys');
    expect(after.out).toContain('key k1: 0 value(s): can be removed from MASTER_KEYS');
    expect(after.out).toContain(`key k2: ${KEYS + 1} value(s)`);
  }, 120_000);

  it('keeps a value changed between read and write (compare and swap): a tenant key re-entered meanwhile wins', async () => {
    const tenant = tenants[17]!;
    const before = (await t.repos.tenants.findKey(tenant, serverId))!;
    const reentered = createKeyring([k2, k1]).encrypt('re-entered', tenantKeyAad(tenant, serverId));
    await t.repos.tenants.setKey({ ...before, ciphertext: reentered });
    const column = ENCRYPTED_COLUMNS.find((c) => c.table === 'tenant_keys')!;
    // A rewrap that read the old value now tries to write its result: nothing changes.
    const stale = await createCiphertextRepo(t.db.pool).swap(column, [{ key: [tenant, serverId], from: before.ciphertext, to: `${before.ciphertext}x`, keyId: 'k2' }]);
    expect(stale).toBe(0);
    expect((await t.repos.tenants.findKey(tenant, serverId))!.ciphertext).toBe(reentered);
  });

  it('is idempotent: a second run finds nothing to move', async () => {
    const r = await mcpgw(env([k2, k1], t), 'rewrap', '--json');
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ rewrapped: 0, failed: [] });
  });

  it('resumes after an interruption and skips (and names) values it cannot unwrap', async () => {
    const t2 = await createTestDatabase();
    try {
      const server = uniqueId('srv');
      await t2.repos.servers.create({ id: server, name: 'x', transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp' });
      const ids = Array.from({ length: 30 }, (_, i) => `r-${String(i).padStart(2, '0')}`);
      await t2.db.query('INSERT INTO tenants (id, name) SELECT id, id FROM unnest($1::text[]) AS id', [ids]);
      const old = createKeyring([k1]);
      const k0: MasterKey = { id: 'k0', key: randomBytes(32) };
      for (const id of ids) {
        // One value is on a key nobody has any more (k0): it cannot be moved and is reported.
        const ring = id === 'r-07' ? createKeyring([k0]) : old;
        await t2.repos.tenants.setKey({ tenantId: id, serverId: server, ciphertext: ring.encrypt(id, tenantKeyAad(id, server)), keyId: ring.currentKeyId, last4: 'xxxx' });
      }
      await verifyMasterKeys([k2, k1], createMasterKeyCheckRepo(t2.db.pool));
      // An interrupted run: the first 10 moved, then it stopped.
      const partial = createKeyring([k2, k1]);
      for (const id of ids.slice(0, 10).filter((i) => i !== 'r-07')) {
        const k = await t2.repos.tenants.findKey(id, server);
        await t2.repos.tenants.setKey({ ...k!, ciphertext: partial.rewrap(k!.ciphertext), keyId: 'k2' });
      }
      const r = await mcpgw(env([k2, k1], t2), 'rewrap', '--batch-size', '7', '--json');
      expect(r.code).toBe(EXIT.api);
      const report = JSON.parse(r.out);
      expect(report.rewrapped).toBe(20);
      expect(report.failed).toEqual([{ column: 'tenant_keys.ciphertext', key: ['r-07', server], error: 'unknown master key id "k0"' }]);
      expect(r.err).toContain('key k0: 1 value(s) (tenant_keys.ciphertext 1) (NOT in MASTER_KEYS');
    } finally {
      await t2.cleanup();
    }
  });
});
