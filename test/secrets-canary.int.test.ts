import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ENCRYPTED_COLUMNS } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import { captureLogger, createFixtures, testRedisUrl, uniqueId } from '@mcpgw/test-support';
import { startInProcessStack, type InProcessStack } from './support/in-process-stack.js';

/**
 * Matrix rows C7 (secrets in logs), A4 (keys in the query string) and C1 (secrets at rest): the whole
 * chain in this process, every service logging at debug into memory (and anything written to
 * stdout/stderr caught too). Canary secrets go through every door a caller or an admin uses:
 * API keys, bearer tokens, a password, a tenant key, an MCP session id, access and refresh tokens.
 * None may appear in any log line, in the database dump of the test's schema, or in Redis.
 */
const execFileP = promisify(execFile);
const lines: string[] = [];
const CANARY = `CANARY${randomBytes(6).toString('hex')}`;
const TENANT_KEY = `${CANARY}-tenant-key-${randomBytes(8).toString('hex')}`;
const PASSWORD = `${CANARY}-password-correct`;
const WRONG_PASSWORD = `${CANARY}-password-wrong`;
const BAD_BEARER = `${CANARY}-bearer-${randomBytes(8).toString('hex')}`;
const BAD_JWT = `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: CANARY })).toString('base64url')}.${randomBytes(16).toString('base64url')}`;
const BAD_API_KEY = `mcpgw_${CANARY}${randomBytes(12).toString('hex')}`;
const URL_KEY = `${CANARY}-in-url-${randomBytes(8).toString('hex')}`;

let stack: InProcessStack;
const loggers = new Map<string, Logger>();
let redisUrl: string | null;
/** Every secret the run handed out or sent; filled as the run goes. */
const secrets = new Map<string, string>([
  ['tenant key', TENANT_KEY],
  ['password', PASSWORD],
  ['wrong password', WRONG_PASSWORD],
  ['bad bearer token', BAD_BEARER],
  ['bad JWT', BAD_JWT],
  ['bad API key', BAD_API_KEY],
  ['key in URL', URL_KEY],
]);
const ids = { tenant: uniqueId('tn-'), server: uniqueId('canary-'), email: `${uniqueId('pw')}@example.test` };
const originalWrite = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

beforeAll(async () => {
  // Anything a service writes around its logger (console, process.stdout) counts as a log line too.
  for (const [name, stream] of [['out', process.stdout], ['err', process.stderr]] as const) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (originalWrite[name] as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  }
  redisUrl = await testRedisUrl();
  const redisEnv: Record<string, string> = redisUrl ? { REDIS_URL: redisUrl } : {};
  stack = await startInProcessStack(
    { ...redisEnv, RATE_LIMIT_PER_MINUTE: '100000', IDENTITY_CACHE_SECONDS: '0', LOG_LEVEL: 'debug' },
    {
      logger: (service) => {
        const c = captureLogger(service);
        // Lines are read at the end, whatever the service wrote them into.
        const push = c.lines.push.bind(c.lines);
        c.lines.push = (...items: string[]) => (lines.push(...items), push(...items));
        loggers.set(service, c.logger);
        return c.logger;
      },
      proxyEnv: redisEnv,
    },
  );
}, 60_000);
afterAll(async () => {
  process.stdout.write = originalWrite.out as typeof process.stdout.write;
  process.stderr.write = originalWrite.err as typeof process.stderr.write;
  await stack?.close();
});

const gw = (path: string, init: RequestInit & { token?: string } = {}) =>
  fetch(`${stack.gatewayUrl}${path}`, {
    ...init,
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
  });
const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'canary', version: '1' } } };
const mcpHeaders = { accept: 'application/json, text/event-stream' };

describe('canary secrets through the whole stack', () => {
  it('plants them through every door', async () => {
    const fx = createFixtures(stack.t.repos);
    const admin = await fx.user({ groups: [await fx.group({ admin: true })] });
    secrets.set('admin API key', admin.key);

    // Admin API: a tenant, its key for an upstream server (encrypted by the portal), a local account with a password.
    await stack.t.repos.servers.create({ id: ids.server, name: 'Canary', transport: 'streamable-http', url: stack.demoUrl, authHeader: 'X-Upstream-Key', authFormat: '{key}' });
    expect((await gw('/mcp-admin/api/tenants', { method: 'POST', token: admin.key, body: JSON.stringify({ id: ids.tenant, name: 'Canary tenant' }) })).status).toBe(201);
    const put = await gw(`/mcp-admin/api/tenant-keys/${ids.tenant}/${ids.server}`, { method: 'PUT', token: admin.key, body: JSON.stringify({ key: TENANT_KEY }) });
    expect(put.status, await put.clone().text()).toBeLessThan(300);
    const listed = await (await gw('/mcp-admin/api/tenant-keys', { token: admin.key })).text();
    expect(listed).toContain(TENANT_KEY.slice(-4));
    expect(listed).not.toContain(TENANT_KEY);
    const created = await gw('/mcp-admin/api/users', { method: 'POST', token: admin.key, body: JSON.stringify({ email: ids.email, password: PASSWORD }) });
    expect(created.status, await created.clone().text()).toBe(201);
    expect(await created.text()).not.toContain(PASSWORD);

    // A caller of the tenant: an MCP session and a tool call, which decrypts the tenant key and sends it upstream.
    const group = await fx.group({ tenantId: ids.tenant });
    await stack.t.repos.access.setGrant(group.id, ids.server, ['*']);
    const caller = await fx.user({ groups: [group], tenantId: ids.tenant });
    secrets.set('caller API key', caller.key);
    const transport = new StreamableHTTPClientTransport(new URL(`${stack.gatewayUrl}/mcp/${ids.server}`), {
      requestInit: { headers: { authorization: `Bearer ${caller.key}` } },
    });
    const client = new Client({ name: 'canary', version: '1' });
    await client.connect(transport);
    expect(transport.sessionId).toBeTruthy();
    secrets.set('MCP session id', transport.sessionId!);
    expect(await client.callTool({ name: 'echo', arguments: { text: 'hello' } })).toMatchObject({ content: [{ type: 'text', text: 'hello' }] });
    // Another identity presenting the session id: refused, and the id must not be logged either.
    const stolen = await gw(`/mcp/${ids.server}`, { method: 'POST', token: admin.key, headers: { ...mcpHeaders, 'mcp-session-id': transport.sessionId! }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(stolen.status).toBe(404);
    await transport.terminateSession().catch(() => undefined);
    await client.close();

    // Local sign-in: right and wrong password, the access and refresh tokens, a refresh, sign-out.
    const bad = await gw('/auth/login', { method: 'POST', body: JSON.stringify({ email: ids.email, password: WRONG_PASSWORD }) });
    expect(bad.status).toBe(401);
    const login = await gw('/auth/login', { method: 'POST', body: JSON.stringify({ email: ids.email, password: PASSWORD }) });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as { access_token: string; refresh_token: string };
    secrets.set('access token', tokens.access_token);
    secrets.set('refresh token', tokens.refresh_token);
    expect((await gw('/auth/me', { token: tokens.access_token })).status).toBe(200);
    const refreshed = await gw('/auth/refresh', { method: 'POST', body: JSON.stringify({ refresh_token: tokens.refresh_token }) });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as { access_token: string; refresh_token: string };
    secrets.set('second access token', next.access_token);
    secrets.set('second refresh token', next.refresh_token);
    // Reusing the first refresh token is reuse detection's case: refused, logged as an event, never by value.
    expect((await gw('/auth/refresh', { method: 'POST', body: JSON.stringify({ refresh_token: tokens.refresh_token }) })).status).toBe(401);

    // Refused credentials: garbage bearer, a forged JWT, an unknown mcpgw_ key (header and X-API-Key).
    for (const token of [BAD_BEARER, BAD_JWT, BAD_API_KEY]) {
      expect((await gw('/mcp', { method: 'POST', token, headers: mcpHeaders, body: JSON.stringify(INIT) })).status).toBe(401);
    }
    expect((await gw('/mcp', { method: 'POST', headers: { ...mcpHeaders, 'x-api-key': BAD_API_KEY }, body: JSON.stringify(INIT) })).status).toBe(401);
  });

  it('A4: refuses a key in the query string, even a valid one, before it reaches a service', async () => {
    const valid = secrets.get('caller API key')!;
    for (const [param, value] of [['api_key', valid], ['access_token', URL_KEY], ['api_key', URL_KEY], ['token', valid]] as const) {
      const requestId = uniqueId('a4-');
      const res = await gw(`/mcp/${ids.server}?${param}=${encodeURIComponent(value)}`, { method: 'POST', headers: { ...mcpHeaders, 'x-request-id': requestId }, body: JSON.stringify(INIT) });
      expect(res.status, param).toBe(401);
      const body = await res.text();
      expect(body).not.toContain(value);
      expect(stack.reachedUpstream(requestId)).toBe(false);
    }
    // Even with a valid key in the header too: the URL still carries a secret, so it is refused.
    const res = await gw(`/mcp/${ids.server}?api_key=${URL_KEY}`, { method: 'POST', token: valid, headers: mcpHeaders, body: JSON.stringify(INIT) });
    expect(res.status).toBe(401);
  });

  it('C7: no canary in any log line of any service (0 occurrences)', async () => {
    // Analytics and security events are written in batches: give them their flush interval.
    await new Promise((r) => setTimeout(r, 1_500));
    // Control: a value logged under a field name that is not secret-looking reaches the capture, so
    // a secret a service logged carelessly would be found.
    const control = `${CANARY}-control`;
    loggers.get('mcp-proxy')!.info('control line', { note: control });
    expect(lines.some((l) => l.includes(control))).toBe(true);
    const text = lines.filter((l) => !l.includes(control)).join('\n');
    // The run was logged (refusals, sign-in events, the session of another identity): an empty capture proves nothing.
    expect(lines.length).toBeGreaterThan(10);
    expect(text).toContain(ids.server);
    const found = [...secrets].filter(([, value]) => text.includes(value)).map(([name]) => name);
    const leaks = lines.filter((l) => [...secrets.values()].some((v) => l.includes(v))).slice(0, 5);
    expect(found, `secrets in logs:\n${leaks.join('\n')}`).toEqual([]);
    // Not even a long fragment of a key (a truncated token is still most of a secret).
    for (const [name, value] of secrets) {
      if (value.length >= 40) expect(text.includes(value.slice(8, 40)), name).toBe(false);
    }
    process.stdout.write(`[C7] ${lines.length} log lines, ${secrets.size} canaries, 0 occurrences\n`);
  });

  it('C1: no canary plaintext in a pg_dump of the schema (ciphertexts only) nor in Redis', async () => {
    const u = new URL(stack.t.url);
    const { stdout: dump } = await execFileP(
      'pg_dump',
      ['-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username) || 'postgres', '-d', u.pathname.slice(1), '--schema', stack.t.schema, '--data-only', '--no-owner'],
      { maxBuffer: 256 * 1024 * 1024, env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } },
    );
    expect(dump).toContain('tenant_keys');
    expect(dump).toContain(ids.tenant);
    const stored = [...secrets].filter(([, value]) => dump.includes(value)).map(([name]) => name);
    expect(stored).toEqual([]);
    expect(dump.split(CANARY).length - 1).toBe(0);

    // Every column holding keyring ciphertext is one the master-key rotation knows (C5).
    const { rows } = await stack.t.db.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 AND data_type IN ('text', 'character varying')`,
      [stack.t.schema],
    );
    const holding: string[] = [];
    for (const r of rows) {
      const hit = await stack.t.db.query(`SELECT 1 FROM "${r.table_name}" WHERE "${r.column_name}" ~ '^v1\\.[A-Za-z0-9_-]{1,32}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' LIMIT 1`);
      if (hit.rowCount) holding.push(`${r.table_name}.${r.column_name}`);
    }
    expect(holding).toContain('tenant_keys.ciphertext');
    expect(holding.filter((c) => !ENCRYPTED_COLUMNS.some((e) => e.name === c))).toEqual([]);

    if (!redisUrl) {
      process.stdout.write('[C1] Redis not reachable: the Redis scan was skipped\n');
      return;
    }
    const redis = new Redis(redisUrl, { lazyConnect: true });
    await redis.connect();
    try {
      let scanned = 0;
      const hits: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          scanned++;
          const type = await redis.type(key);
          const value =
            type === 'string' ? await redis.get(key)
            : type === 'hash' ? JSON.stringify(await redis.hgetall(key))
            : type === 'list' ? JSON.stringify(await redis.lrange(key, 0, -1))
            : type === 'set' ? JSON.stringify(await redis.smembers(key))
            : type === 'zset' ? JSON.stringify(await redis.zrange(key, 0, -1))
            : type === 'stream' ? JSON.stringify(await redis.xrange(key, '-', '+'))
            : '';
          const both = `${key}\n${value ?? ''}`;
          for (const [name, secret] of secrets) if (both.includes(secret)) hits.push(`${name} in ${key}`);
        }
      } while (cursor !== '0');
      expect(hits).toEqual([]);
      process.stdout.write(`[C1] pg_dump ${dump.length} bytes, ${scanned} Redis keys scanned: 0 canary matches\n`);
    } finally {
      redis.disconnect();
    }
  });
});
