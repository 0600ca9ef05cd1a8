import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@mcpgw/crypto';
import { createDb, createRepos, runMigrations, type Db, type Repos } from '@mcpgw/db';

/** Sizes of the aggregated tools/list scenarios: a user whose groups grant exactly N servers. */
export const LIST_SIZES = [1, 5, 20, 50] as const;

export interface BenchData {
  databaseUrl: string;
  schema: string;
  signingSecret: string;
  masterKeys: string;
  /** Key of the main user: every tool of `bench` (SDK upstream) and `stdio`. */
  key: string;
  /** Name of the main user's group (for requests signed as the gateway would). */
  group: string;
  /** Keys of users granted exactly N of the servers s01…s50 (same SDK upstream). */
  listKeys: Record<number, string>;
  /** Adds `count` users, each with its own key and 2 of `groups` groups granted `bench`; returns the keys. */
  addUsers(count: number, groups: number): Promise<string[]>;
  cleanup(): Promise<void>;
}

export interface Upstreams {
  sdkUrl: string;
  stdio: { command: string; args: string[] };
}

const pad = (n: number) => String(n).padStart(2, '0');

async function userWithKey(repos: Repos, email: string, groupName: string, grants: readonly string[]): Promise<string> {
  const user = await repos.users.create({ email, name: 'Bench', source: 'local' });
  const group = await repos.groups.create({ name: groupName });
  await repos.groups.addMember(group.id, user.id);
  for (const serverId of grants) await repos.access.setGrant(group.id, serverId, ['*']);
  const key = generateApiKey();
  await repos.apiKeys.create({ userId: user.id, keyHash: key.hash, prefix: key.prefix });
  return key.key;
}

/** 15,000 users in three statements: the cardinality matters here, not the admin API. */
async function insertUsers(db: Db, tag: string, count: number, groupCount: number): Promise<string[]> {
  const { rows: groups } = await db.query<{ id: string }>(
    `INSERT INTO groups (name) SELECT $1 || '-' || g FROM generate_series(1, $2) g RETURNING id`,
    [`crowd-${tag}`, groupCount],
  );
  await db.query(`INSERT INTO group_server_access (group_id, server_id, tools) SELECT unnest($1::uuid[]), 'bench', '{*}'`, [groups.map((g) => g.id)]);
  const keys = Array.from({ length: count }, () => generateApiKey());
  const { rows: users } = await db.query<{ id: string }>(
    `INSERT INTO users (email, name, source) SELECT 'crowd-' || $1 || '-' || i || '@bench.test', 'Crowd ' || i, 'local' FROM generate_series(1, $2) i RETURNING id`,
    [tag, count],
  );
  await db.query(`INSERT INTO api_keys (user_id, key_hash, prefix) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`, [
    users.map((u) => u.id),
    keys.map((k) => k.hash),
    keys.map((k) => k.prefix),
  ]);
  // Two groups per user, spread so that many distinct sorted group lists exist (policy cache keys).
  const members = users.flatMap((u, i) => [
    [groups[i % groupCount]!.id, u.id],
    [groups[(i * 7 + 3) % groupCount]!.id, u.id],
  ]).filter(([g], i, all) => i % 2 === 0 || g !== all[i - 1]![0]);
  await db.query(`INSERT INTO group_memberships (group_id, user_id) SELECT * FROM unnest($1::uuid[], $2::uuid[])`, [members.map((m) => m[0]), members.map((m) => m[1])]);
  return keys.map((k) => k.key);
}

/**
 * A fresh schema: the upstream servers (bench, stdio, s01…s50 on the same SDK process), the main
 * user, one user per list size, and on request a crowd of users.
 */
export async function prepareData(databaseUrl: string, upstreams: Upstreams): Promise<BenchData> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const db = createDb({ url: databaseUrl, schema, poolMax: 2 });
  await runMigrations(db);
  const repos = createRepos(db.pool);
  await repos.servers.create({ id: 'bench', name: 'Bench (SDK)', transport: 'streamable-http', url: upstreams.sdkUrl });
  await repos.servers.create({ id: 'stdio', name: 'Bench (stdio)', transport: 'stdio', command: upstreams.stdio.command, args: upstreams.stdio.args });
  const max = Math.max(...LIST_SIZES);
  for (let i = 1; i <= max; i++) await repos.servers.create({ id: `s${pad(i)}`, name: `Bench ${pad(i)}`, transport: 'streamable-http', url: upstreams.sdkUrl });
  const group = `bench-main-${schema}`;
  const key = await userWithKey(repos, `main-${schema}@bench.test`, group, ['bench', 'stdio']);
  const listKeys: Record<number, string> = {};
  for (const n of LIST_SIZES) {
    listKeys[n] = await userWithKey(repos, `list${n}-${schema}@bench.test`, `bench-list${n}-${schema}`, Array.from({ length: n }, (_, i) => `s${pad(i + 1)}`));
  }
  let crowds = 0;
  return {
    databaseUrl,
    schema,
    signingSecret: randomBytes(32).toString('base64url'),
    masterKeys: `k1:${randomBytes(32).toString('base64')}`,
    key,
    group,
    listKeys,
    addUsers: (count, groups) => insertUsers(db, `${schema}-${++crowds}`, count, groups),
    async cleanup() {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
    },
  };
}
