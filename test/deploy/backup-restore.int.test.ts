import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, hashApiKey, parseMasterKeys } from '@mcpgw/crypto';
import { createDb, createRepos, runMigrations, type Db } from '@mcpgw/db';
import { tenantKeyAad } from '@mcpgw/mcp-proxy';
import { createFixtures, createTestDatabase, freePort, silentLogger, sparePostgres, sparePostgresAvailable, uniqueId, type SparePostgres, type TestDatabase } from '@mcpgw/test-support';

const run = promisify(execFile);

/**
 * docs/operations.md "Backup and restore", run for real: `pg_dump --schema=… -Fc` of a live
 * installation's schema, `pg_restore --no-owner` into another PostgreSQL (a throw-away cluster),
 * and the restored installation is usable: the migration runner accepts it (same migrations, same
 * checksums), users and API keys are found by hash, and a tenant key still decrypts with the same
 * MASTER_KEYS (and not with others).
 */
describe.skipIf(!sparePostgresAvailable())('backup and restore of the mcpgw schema (pg_dump / pg_restore)', () => {
  let source: TestDatabase;
  let target: SparePostgres;
  let restored: Db | undefined;
  let dir: string;

  beforeAll(async () => {
    source = await createTestDatabase();
    target = await sparePostgres(await freePort());
    await target.start();
    dir = await mkdtemp(path.join(os.tmpdir(), 'mcpgw-backup-'));
  }, 60_000);
  afterAll(async () => {
    await restored?.close();
    await target?.destroy();
    await source?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('restores an installation that starts and decrypts what it stored', async () => {
    if (source.kind !== 'postgres') return; // the embedded fallback has no pg_dump-able server
    const masterKeys = `k1:${randomBytes(32).toString('base64')}`;
    const keyring = createKeyring(parseMasterKeys(masterKeys));
    const { user, key } = await createFixtures(source.repos).user({ admin: true });
    const tenantId = uniqueId('acme');
    const serverId = uniqueId('srv');
    await source.repos.tenants.create({ id: tenantId, name: 'Acme' });
    await source.repos.servers.create({ id: serverId, name: 'Server', transport: 'streamable-http', url: 'http://upstream.invalid/mcp' });
    await source.repos.tenants.setKey({ tenantId, serverId, ciphertext: keyring.encrypt('tenant-secret-1234', tenantKeyAad(tenantId, serverId)), keyId: 'k1', last4: '1234' });

    const dump = path.join(dir, 'mcpgw.dump');
    await run('pg_dump', ['--dbname', source.url, `--schema=${source.schema}`, '-Fc', '--file', dump]);
    await run('pg_restore', ['--dbname', target.url, '--no-owner', dump]);

    restored = createDb({ url: target.url, schema: source.schema }, silentLogger('db'));
    // A service starting on the restored schema: nothing to apply, no checksum complaint.
    await expect(runMigrations(restored, silentLogger('db'))).resolves.not.toThrow();
    const repos = createRepos(restored.pool);
    expect((await repos.users.findById(user.id))?.isAdmin).toBe(true);
    expect((await repos.apiKeys.findByHash(hashApiKey(key)))?.userId).toBe(user.id);
    const stored = await repos.tenants.findKey(tenantId, serverId);
    expect(keyring.decrypt(stored!.ciphertext, tenantKeyAad(tenantId, serverId))).toBe('tenant-secret-1234');
    const otherKeys = createKeyring(parseMasterKeys(`k1:${randomBytes(32).toString('base64')}`));
    expect(() => otherKeys.decrypt(stored!.ciphertext, tenantKeyAad(tenantId, serverId))).toThrow();
  }, 60_000);
});
