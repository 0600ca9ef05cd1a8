import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CreateMessageRequestSchema, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Identity } from '@mcpgw/identity';
import { createFixtures, createTestDatabase, freePort, spareRedis, testRedisUrl, uniqueId, waitFor, type TestDatabase } from '@mcpgw/test-support';
import { gatewayFetch, makeIdentity, rawPost, startDemoUpstream, startProxy, type Proxy } from './support/harness.js';
import { startEverything, type EverythingProcess } from './support/upstreams.js';

const redisUrl = await testRedisUrl();
const listTools = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} };

/**
 * Two replicas of one installation (the same database, the same Redis): a client's requests go to
 * whichever replica `route.to` names, as a balancer would send them.
 */
describe.skipIf(!redisUrl)('mcp-proxy replicas sharing sessions in Redis', () => {
  let db: TestDatabase;
  let a: Proxy;
  let b: Proxy;
  let demo: Awaited<ReturnType<typeof startDemoUpstream>>;
  let everything: EverythingProcess;
  const env = { REDIS_URL: redisUrl!, MCP_SESSIONS_PER_USER: '2' };

  beforeAll(async () => {
    db = await createTestDatabase();
    [a, b] = await Promise.all([startProxy({ db, env }), startProxy({ db, env })]);
    [demo, everything] = await Promise.all([startDemoUpstream(), startEverything('streamableHttp')]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), demo?.close(), everything?.close()]);
    await db?.cleanup();
  });

  async function grantedUser(url = demo.url): Promise<{ identity: Identity; serverId: string }> {
    const serverId = uniqueId('srv');
    await db.repos.servers.create({ id: serverId, name: 'Server', transport: 'streamable-http', url });
    const group = await createFixtures(db.repos).group();
    await db.repos.access.setGrant(group.id, serverId, ['*']);
    return { identity: makeIdentity({ groups: [group.name] }), serverId };
  }

  /** An SDK client whose every request goes to the replica `route.to` names at that moment. */
  async function connect(identity: Identity, path: string, route: { to: Proxy }, capabilities: ClientCapabilities = {}, setup?: (c: Client) => void) {
    const signed = gatewayFetch(identity);
    const balanced: FetchLike = (input, init) => {
      const url = new URL(input instanceof URL ? input.href : input);
      const replica = new URL(route.to.url);
      url.host = replica.host;
      return signed(url, init);
    };
    const client = new Client({ name: 'replica-test', version: '1' }, { capabilities });
    setup?.(client);
    const transport = new StreamableHTTPClientTransport(new URL(`http://replica.invalid${path}`), { fetch: balanced });
    await client.connect(transport);
    return { client, transport, close: async () => (await transport.terminateSession().catch(() => undefined), await client.close()) };
  }

  it('a session opened on one replica is served by the other after the first is gone', async () => {
    const { identity, serverId } = await grantedUser();
    const first = await startProxy({ db, env });
    const route = { to: first };
    const via = await connect(identity, '/mcp', route);
    expect((await via.client.listTools()).tools.map((t) => t.name)).toContain(`${serverId}__echo`);
    await first.close();

    route.to = b;
    const result = await via.client.callTool({ name: `${serverId}__echo`, arguments: { text: 'after the loss' } });
    expect(result.content).toEqual([{ type: 'text', text: 'after the loss' }]);
    expect((await via.client.listTools()).tools.map((t) => t.name)).toContain(`${serverId}__add`);
    // The GET stream the client lost with the first replica is opened again on this one.
    await waitFor(() => b.deps.sessions.size() > 0, 5_000);
    await via.close();
  });

  it("is still bound to its owner and endpoint on the other replica: anyone else's request is 404", async () => {
    const { identity, serverId } = await grantedUser();
    const via = await connect(identity, '/mcp', { to: a });
    const sessionId = via.transport.sessionId!;
    const bob = makeIdentity({ groups: identity.groups });
    const stolen = await rawPost(`${b.url}/mcp`, listTools, { identity: bob, sessionId });
    expect(stolen.status).toBe(404);
    await stolen.body?.cancel();
    const otherEndpoint = await rawPost(`${b.url}/mcp/${serverId}`, listTools, { identity, sessionId });
    expect(otherEndpoint.status).toBe(404);
    await otherEndpoint.body?.cancel();
    // The owner's request on the right endpoint is served there.
    const owned = await rawPost(`${b.url}/mcp`, listTools, { identity, sessionId });
    expect(owned.status).toBe(200);
    expect(await owned.text()).toContain(`${serverId}__echo`);
    await via.close();
  });

  it('DELETE through one replica ends the session on the other', async () => {
    const { identity } = await grantedUser();
    const route = { to: a };
    const via = await connect(identity, '/mcp', route);
    const sessionId = via.transport.sessionId!;
    route.to = b;
    await via.transport.terminateSession();
    const onA = await rawPost(`${a.url}/mcp`, listTools, { identity, sessionId });
    expect(onA.status).toBe(404);
    await onA.body?.cancel();
    await via.client.close();
  });

  it('the per-user cap counts sessions on every replica and evicts the least recently used wherever it runs', async () => {
    const { identity } = await grantedUser();
    const s1 = await connect(identity, '/mcp', { to: a });
    const s2 = await connect(identity, '/mcp', { to: b });
    // The SDK client opens its GET stream after connect() returns, and that use counts: let it land.
    await new Promise((r) => setTimeout(r, 500));
    await s1.client.listTools(); // s2 is now the least recently used
    const s3 = await connect(identity, '/mcp', { to: a });
    const evicted = await rawPost(`${b.url}/mcp`, listTools, { identity, sessionId: s2.transport.sessionId! });
    expect(evicted.status).toBe(404);
    await evicted.body?.cancel();
    expect((await s1.client.listTools()).tools.length).toBeGreaterThan(0);
    expect((await s3.client.listTools()).tools.length).toBeGreaterThan(0);
    await Promise.all([s1.close(), s3.close(), s2.client.close()]);
  });

  it('the record holds owner, endpoint, negotiated version and capabilities, expires when idle, and never the credential', async () => {
    const { identity, serverId } = await grantedUser();
    const via = await connect(identity, `/mcp/${serverId}`, { to: a }, { roots: { listChanged: true } });
    const redis = new Redis(redisUrl!);
    try {
      const key = `mcpgw:${db.schema}:mcp-session:${via.transport.sessionId}`;
      const record = JSON.parse((await redis.get(key))!) as Record<string, unknown>;
      expect(record).toMatchObject({
        owner: { userId: identity.userId, scope: `server:${serverId}` },
        initialize: { protocolVersion: via.transport.protocolVersion, capabilities: { roots: { listChanged: true } }, clientInfo: { name: 'replica-test' } },
        context: { scope: { kind: 'server', serverId } },
      });
      const ttl = await redis.pttl(key);
      expect(ttl).toBeGreaterThan(1_790_000);
      expect(ttl).toBeLessThanOrEqual(1_800_000);
      expect(JSON.stringify(record)).not.toContain('x-gateway-signature');
    } finally {
      redis.disconnect();
      await via.close();
    }
  });

  it('idle sessions expire in Redis for every replica', async () => {
    const idleEnv = { ...env, MCP_SESSION_IDLE_SECONDS: '1' };
    const [x, y] = await Promise.all([startProxy({ db, env: idleEnv }), startProxy({ db, env: idleEnv })]);
    try {
      const { identity } = await grantedUser();
      const via = await connect(identity, '/mcp', { to: x });
      const sessionId = via.transport.sessionId!;
      await new Promise((r) => setTimeout(r, 1_300));
      const later = await rawPost(`${y.url}/mcp`, listTools, { identity, sessionId });
      expect(later.status).toBe(404);
      await later.body?.cancel();
      await via.client.close();
    } finally {
      await Promise.all([x.close(), y.close()]);
    }
  });

  it('Redis down: sessions go on where they run and new ones open (local only); once it is back they are shared again', async () => {
    const spare = spareRedis(await freePort());
    await spare.start();
    const spareEnv = { ...env, REDIS_URL: spare.url };
    const [x, y] = await Promise.all([startProxy({ db, env: spareEnv }), startProxy({ db, env: spareEnv })]);
    try {
      const { identity, serverId } = await grantedUser();
      const route = { to: x };
      const before = await connect(identity, '/mcp', route);
      await spare.kill();
      expect((await before.client.listTools()).tools.map((t) => t.name)).toContain(`${serverId}__echo`);
      const during = await connect(identity, '/mcp', route);
      expect((await during.client.callTool({ name: `${serverId}__echo`, arguments: { text: 'no redis' } })).content).toEqual([{ type: 'text', text: 'no redis' }]);
      // Not findable elsewhere while Redis is down: a fresh session is the way on (404).
      const elsewhere = await rawPost(`${y.url}/mcp`, listTools, { identity, sessionId: during.transport.sessionId! });
      expect(elsewhere.status).toBe(404);
      await elsewhere.body?.cancel();

      await spare.start();
      // The next use registers the session opened during the outage; then any replica serves it.
      await waitFor(async () => {
        await during.client.listTools();
        const res = await rawPost(`${y.url}/mcp`, listTools, { identity, sessionId: during.transport.sessionId! });
        await res.body?.cancel();
        return res.status === 200;
      }, 10_000, 200);
      await Promise.all([before.close(), during.close()]);
    } finally {
      await Promise.all([x.close(), y.close()]);
      await spare.kill();
    }
  });

  it("after a takeover the server's sampling requests still reach the caller (its capabilities came back with the session)", async () => {
    const { identity, serverId } = await grantedUser(everything.url);
    const first = await startProxy({ db, env });
    const route = { to: first };
    const prompts: string[] = [];
    const via = await connect(identity, `/mcp/${serverId}`, route, { sampling: {} }, (client) => {
      client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
        prompts.push(JSON.stringify(request.params.messages[0]?.content));
        return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'forty-two' } };
      });
    });
    const ask = () => via.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'the answer?', maxTokens: 5 } });
    expect(JSON.stringify((await ask()).content)).toContain('forty-two');
    await first.close();

    route.to = b;
    expect(JSON.stringify((await ask()).content)).toContain('forty-two');
    expect(prompts).toHaveLength(2);
    await via.close();
  });
});
