import { randomBytes } from 'node:crypto';
import { generateApiKey } from '@mcpgw/crypto';
import { createDb, createRepos, runMigrations } from '@mcpgw/db';

export interface BenchData {
  databaseUrl: string;
  schema: string;
  key: string;
  signingSecret: string;
  masterKeys: string;
  cleanup(): Promise<void>;
}

/** A fresh schema with one user whose group may use every tool of `serverId` at `serverUrl`. */
export async function prepareData(databaseUrl: string, serverId: string, serverUrl: string): Promise<BenchData> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const db = createDb({ url: databaseUrl, schema, poolMax: 2 });
  await runMigrations(db);
  const repos = createRepos(db.pool);
  const user = await repos.users.create({ email: `${schema}@bench.test`, name: 'Bench', source: 'local' });
  const group = await repos.groups.create({ name: `bench-${schema}` });
  await repos.groups.addMember(group.id, user.id);
  await repos.servers.create({ id: serverId, name: 'Bench', transport: 'streamable-http', url: serverUrl });
  await repos.access.setGrant(group.id, serverId, ['*']);
  const key = generateApiKey();
  await repos.apiKeys.create({ userId: user.id, keyHash: key.hash, prefix: key.prefix });
  await db.close();
  return {
    databaseUrl,
    schema,
    key: key.key,
    signingSecret: randomBytes(32).toString('base64url'),
    masterKeys: `k1:${randomBytes(32).toString('base64')}`,
    async cleanup() {
      const admin = createDb({ url: databaseUrl, schema });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.close();
    },
  };
}

/** Opens an MCP session at `url` and returns its id (for load runs that reuse one session). */
export async function openSession(url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }),
  });
  await res.text();
  const id = res.headers.get('mcp-session-id');
  if (!res.ok || !id) throw new Error(`initialize at ${url} failed: ${res.status}`);
  await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  }).then((r) => r.text());
  return id;
}
