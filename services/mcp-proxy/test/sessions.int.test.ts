import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '@mcpgw/identity';
import { createFixtures, testRedisUrl, uniqueId, waitFor } from '@mcpgw/test-support';
import {
  connectAs,
  gatewayFetch,
  initializeBody,
  makeIdentity,
  rawPost,
  startDemoUpstream,
  startProxy,
  type Proxy,
} from './support/harness.js';

const listTools = { jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} };

/** The same rules with session records in this process and in Redis (shared-sessions.int.test.ts: several replicas). */
const redisUrl = await testRedisUrl();
const stores: { store: string; env: Record<string, string> }[] = [
  { store: 'in process', env: {} },
  ...(redisUrl ? [{ store: 'Redis', env: { REDIS_URL: redisUrl } }] : []),
];

describe.each(stores)('mcp-proxy: downstream sessions (records $store)', ({ env }) => {
  let proxy: Proxy;
  let upstream: Awaited<ReturnType<typeof startDemoUpstream>>;
  beforeAll(async () => {
    proxy = await startProxy({ env: { ...env, MCP_SESSIONS_PER_USER: '2' } });
    upstream = await startDemoUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
    await proxy?.close();
  });

  async function grantedUser(p: Proxy = proxy): Promise<{ identity: Identity; serverId: string }> {
    const serverId = uniqueId('demo');
    await p.db.repos.servers.create({ id: serverId, name: 'Demo', transport: 'streamable-http', url: upstream.url });
    const group = await createFixtures(p.db.repos).group();
    await p.db.repos.access.setGrant(group.id, serverId, ['*']);
    return { identity: makeIdentity({ groups: [group.name] }), serverId };
  }

  it("is bound to its identity: another user presenting the id gets 404, the owner keeps the session", async () => {
    const { identity: alice, serverId } = await grantedUser();
    const bob = makeIdentity({ groups: alice.groups });
    const a = await connectAs(proxy.url, '/mcp', alice);
    const sessionId = a.transport.sessionId!;
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const stolen = await rawPost(`${proxy.url}/mcp`, listTools, { identity: bob, sessionId });
    expect(stolen.status).toBe(404);
    expect(await stolen.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { message: 'Session not found' } });
    const stolenStream = await gatewayFetch(bob)(`${proxy.url}/mcp`, { headers: { 'mcp-session-id': sessionId, accept: 'text/event-stream' } });
    expect(stolenStream.status).toBe(404);
    await stolenStream.body?.cancel();
    const stolenDelete = await gatewayFetch(bob)(`${proxy.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
    expect(stolenDelete.status).toBe(404);

    // The same session id on another endpoint is not found either.
    const otherEndpoint = await rawPost(`${proxy.url}/mcp/${serverId}`, listTools, { identity: alice, sessionId });
    expect(otherEndpoint.status).toBe(404);

    expect((await a.client.listTools()).tools.map((t) => t.name)).toContain(`${serverId}__echo`);
    await a.close();
  });

  it('DELETE ends a session; using it afterwards gets 404', async () => {
    const { identity } = await grantedUser();
    const a = await connectAs(proxy.url, '/mcp', identity);
    const sessionId = a.transport.sessionId!;
    const before = proxy.deps.sessions.size();
    await a.transport.terminateSession();
    expect(proxy.deps.sessions.size()).toBe(before - 1);
    const reused = await rawPost(`${proxy.url}/mcp`, listTools, { identity, sessionId });
    expect(reused.status).toBe(404);
    expect(await reused.json()).toMatchObject({ error: { message: 'Session not found' } });
    await a.client.close();
  });

  it('answers 404 for an unknown session id and 400 for a non-initialize request without one', async () => {
    const { identity } = await grantedUser();
    const unknown = await rawPost(`${proxy.url}/mcp`, listTools, { identity, sessionId: 'made-up-session-id' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ jsonrpc: '2.0', error: { message: 'Session not found' } });
    const none = await rawPost(`${proxy.url}/mcp`, listTools, { identity });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ jsonrpc: '2.0', error: { message: expect.stringContaining('send initialize first') } });
    const getWithout = await gatewayFetch(identity)(`${proxy.url}/mcp`, { headers: { accept: 'text/event-stream' } });
    expect(getWithout.status).toBe(400);
    // An MCP-Protocol-Version the server does not speak is refused (M5).
    const init = await rawPost(`${proxy.url}/mcp`, initializeBody(), { identity });
    const sessionId = init.headers.get('mcp-session-id')!;
    await init.body?.cancel();
    const badVersion = await rawPost(`${proxy.url}/mcp`, listTools, { identity, sessionId, headers: { 'mcp-protocol-version': '1999-01-01' } });
    expect(badVersion.status).toBe(400);
  });

  it("opening one session more than MCP_SESSIONS_PER_USER closes that user's least recently used one", async () => {
    const { identity } = await grantedUser();
    const other = makeIdentity({ groups: identity.groups });
    const theirs = await connectAs(proxy.url, '/mcp', other);
    const first = await connectAs(proxy.url, '/mcp', identity);
    const second = await connectAs(proxy.url, '/mcp', identity);
    // The SDK client opens its GET stream after connect() returns, and that use counts: let it land.
    await new Promise((r) => setTimeout(r, 500));
    await first.client.listTools(); // first is now more recently used than second
    const third = await connectAs(proxy.url, '/mcp', identity);

    const secondAgain = await rawPost(`${proxy.url}/mcp`, listTools, { identity, sessionId: second.transport.sessionId! });
    expect(secondAgain.status).toBe(404);
    await secondAgain.body?.cancel();
    expect((await first.client.listTools()).tools.length).toBeGreaterThan(0);
    expect((await third.client.listTools()).tools.length).toBeGreaterThan(0);
    // Other users' sessions do not count.
    expect((await theirs.client.listTools()).tools.length).toBeGreaterThan(0);
    await Promise.all([first.close(), third.close(), theirs.close(), second.client.close()]);
  });

  it('closes a session left idle for MCP_SESSION_IDLE_SECONDS', async () => {
    const idleProxy = await startProxy({ env: { ...env, MCP_SESSION_IDLE_SECONDS: '1' } });
    try {
      const { identity } = await grantedUser(idleProxy);
      const res = await rawPost(`${idleProxy.url}/mcp`, initializeBody(), { identity });
      expect(res.status).toBe(200);
      const sessionId = res.headers.get('mcp-session-id')!;
      await res.body?.cancel();
      expect(idleProxy.deps.sessions.size()).toBe(1);
      await waitFor(() => idleProxy.deps.sessions.size() === 0, 5_000);
      const later = await rawPost(`${idleProxy.url}/mcp`, listTools, { identity, sessionId });
      expect(later.status).toBe(404);
      await later.body?.cancel();
    } finally {
      await idleProxy.close();
    }
  });
});
