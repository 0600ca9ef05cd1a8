import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, uniqueId } from '@mcpgw/test-support';
import { connectAs, makeIdentity, startProxy, type Proxy } from './support/harness.js';
import { startFaultUpstream, type FaultUpstream } from './support/fault-upstream.js';

/**
 * MCP_LIST_CACHE_SECONDS: an aggregated tools/list asks each upstream once per cache time, not once
 * per caller request; each caller still sees only what its grants allow; a failing upstream is
 * asked again at once (the cache never outlives a failure).
 */
describe('mcp-proxy: upstream lists are kept for MCP_LIST_CACHE_SECONDS', () => {
  let proxy: Proxy;
  let upstream: FaultUpstream;
  beforeAll(async () => {
    [proxy, upstream] = await Promise.all([startProxy({ env: { MCP_LIST_CACHE_SECONDS: '30' } }), startFaultUpstream()]);
  });
  afterAll(async () => {
    await upstream?.close();
    await proxy?.close();
  });

  async function grantedServer(tools: string[]) {
    const serverId = uniqueId('lst');
    await proxy.db.repos.servers.create({ id: serverId, name: 'Listed', transport: 'streamable-http', url: upstream.url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, serverId, tools);
    return { serverId, identity: makeIdentity({ groups: [group.name] }) };
  }

  it('ten aggregated lists by two callers cost one upstream tools/list; each caller sees its own grants', async () => {
    upstream.settings.mode = 'normal';
    const everything = await grantedServer(['*']);
    const listed = () => upstream.counts().byMethod['tools/list'] ?? 0;
    const before = listed();
    const wide = await connectAs(proxy.url, '/mcp', everything.identity);
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, everything.serverId, ['not-echo']);
    const narrow = await connectAs(proxy.url, '/mcp', makeIdentity({ groups: [group.name] }));
    try {
      const wideNames: string[][] = [];
      const narrowNames: string[][] = [];
      for (let i = 0; i < 5; i++) {
        wideNames.push((await wide.client.listTools()).tools.map((t) => t.name));
        narrowNames.push((await narrow.client.listTools()).tools.map((t) => t.name));
      }
      expect(listed() - before).toBe(1);
      expect(new Set(wideNames.map((n) => n.join()))).toHaveProperty('size', 1);
      expect(wideNames[0]).toContain(`${everything.serverId}__echo`);
      expect(narrowNames.every((n) => !n.some((name) => name.startsWith(`${everything.serverId}__`)))).toBe(true);
    } finally {
      await Promise.all([wide.close(), narrow.close()]);
    }
  });

  it('a failing upstream is asked again at the next list, and its tools are not served from the cache', async () => {
    upstream.settings.mode = 'normal';
    const { serverId, identity } = await grantedServer(['*']);
    const caller = await connectAs(proxy.url, `/mcp/${serverId}`, identity);
    try {
      expect((await caller.client.listTools()).tools.length).toBeGreaterThan(0);
      upstream.settings.mode = 'garbage';
      await expect(caller.client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow();
      const before = upstream.counts().byMethod['tools/list'] ?? 0;
      upstream.settings.mode = 'normal';
      expect((await caller.client.listTools()).tools.length).toBeGreaterThan(0);
      expect((upstream.counts().byMethod['tools/list'] ?? 0) - before).toBe(1);
    } finally {
      await caller.close();
    }
  });
});
