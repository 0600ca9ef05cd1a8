import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import type { NewServer } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
import { createFixtures, uniqueId } from '@mcpgw/test-support';
import { connectAs, gatewayFetch, makeIdentity, startProxy, type Proxy } from './support/harness.js';
import { startEverything, type EverythingProcess } from './support/upstreams.js';

const UPSTREAM_UNAVAILABLE = -32002;

interface ServerRow {
  id: string;
  health: { status: string; breaker: string; lastError?: string | null; checkedAt: string | null };
}

describe('mcp-proxy upstream health: periodic checks, status in GET /servers, circuit breaker', () => {
  let proxy: Proxy;
  let everything: EverythingProcess;
  beforeAll(async () => {
    [proxy, everything] = await Promise.all([
      startProxy({ env: { UPSTREAM_BREAKER_FAILURES: '2', UPSTREAM_BREAKER_COOLDOWN_MS: '400' } }),
      startEverything('streamableHttp'),
    ]);
  });
  afterAll(async () => {
    await everything?.close();
    await proxy?.close();
  });

  async function granted(server: Omit<NewServer, 'id' | 'name'>) {
    const row = await proxy.db.repos.servers.create({ id: uniqueId('srv'), name: 'Upstream', ...server });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, row.id, ['*']);
    return { serverId: row.id, user: makeIdentity({ groups: [group.name] }), admin: makeIdentity({ admin: true, allowServers: [row.id] }) };
  }

  async function serversAs(identity: ReturnType<typeof makeIdentity>): Promise<ServerRow[]> {
    const res = await gatewayFetch(identity)(`${proxy.url}/servers`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { servers: ServerRow[] }).servers;
  }

  it('a hanging server: after the threshold of timeouts the breaker opens and calls fail at once, then one trial goes after the cooldown', async () => {
    let requests = 0;
    const app = express();
    app.all('/mcp', () => {
      requests += 1; // accepts, never answers
    });
    const hanging = await listen(app, { host: '127.0.0.1', port: 0 });
    try {
      const { serverId, user } = await granted({ transport: 'streamable-http', url: `${hanging.url}/mcp`, connectTimeoutMs: 300, callTimeoutMs: 300 });
      const one = await connectAs(proxy.url, `/mcp/${serverId}`, user);
      // initialize already tried to learn the server's capabilities (one timeout); one call more opens the breaker.
      await expect(one.client.callTool({ name: 'x', arguments: {} })).rejects.toMatchObject({ code: UPSTREAM_UNAVAILABLE });
      const seen = requests;
      const started = Date.now();
      await expect(one.client.callTool({ name: 'x', arguments: {} })).rejects.toMatchObject({
        code: UPSTREAM_UNAVAILABLE,
        message: expect.stringContaining('circuit open'),
      });
      expect(Date.now() - started).toBeLessThan(150);
      expect(requests).toBe(seen);
      await new Promise((r) => setTimeout(r, 450));
      await expect(one.client.callTool({ name: 'x', arguments: {} })).rejects.toMatchObject({ code: UPSTREAM_UNAVAILABLE });
      expect(requests).toBeGreaterThan(seen); // the half-open trial went upstream
      await one.close();
    } finally {
      await hanging.close(50);
    }
  });

  it('a killed server is marked down with its last error (shown to admins only) and comes back up after a restart', async () => {
    const { serverId, user, admin } = await granted({ transport: 'streamable-http', url: everything.url });
    const one = await connectAs(proxy.url, `/mcp/${serverId}`, user);
    expect((await one.client.callTool({ name: 'echo', arguments: { message: 'up' } })).content).toEqual([{ type: 'text', text: 'Echo: up' }]);

    expect((await serversAs(user)).find((s) => s.id === serverId)?.health.status).toBe('unknown');
    await proxy.deps.health.checkAll();
    expect((await serversAs(user)).find((s) => s.id === serverId)?.health).toMatchObject({ status: 'up', breaker: 'closed' });

    await everything.kill();
    await proxy.deps.health.checkAll();
    const asAdmin = (await serversAs(admin)).find((s) => s.id === serverId)!;
    expect(asAdmin.health.status).toBe('down');
    expect(asAdmin.health.lastError).toMatch(/unavailable/);
    const asUser = (await serversAs(user)).find((s) => s.id === serverId)!;
    expect(asUser.health.status).toBe('down');
    expect(asUser.health).not.toHaveProperty('lastError');

    // A second failure (the call) opens the breaker: the next call fails fast, without a connection attempt.
    await expect(one.client.callTool({ name: 'echo', arguments: { message: 'x' } })).rejects.toMatchObject({ code: UPSTREAM_UNAVAILABLE });
    const started = Date.now();
    await expect(one.client.callTool({ name: 'echo', arguments: { message: 'x' } })).rejects.toThrow(/circuit open/);
    expect(Date.now() - started).toBeLessThan(100);

    // The health check is the breaker's probe: once the server is back, it closes the breaker.
    await everything.restart();
    await proxy.deps.health.checkAll();
    expect((await serversAs(admin)).find((s) => s.id === serverId)?.health).toMatchObject({ status: 'up', breaker: 'closed', lastError: null });
    expect((await one.client.callTool({ name: 'echo', arguments: { message: 'back' } })).content).toEqual([{ type: 'text', text: 'Echo: back' }]);
    await one.close();
  });

  it('GET /servers lists only the servers the caller may use', async () => {
    const { serverId, user } = await granted({ transport: 'streamable-http', url: everything.url });
    const { serverId: otherId } = await granted({ transport: 'streamable-http', url: everything.url });
    const ids = (await serversAs(user)).map((s) => s.id);
    expect(ids).toContain(serverId);
    expect(ids).not.toContain(otherId);
    expect(await serversAs(makeIdentity())).toEqual([]);
  });
});
