import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import { connectAs, makeIdentity, startProxy, type Proxy } from './support/harness.js';
import { startFeatureUpstream, type FeatureUpstream } from './support/upstreams.js';

const VALID_NAME = /^[A-Za-z0-9_-]{1,64}$/;

describe('mcp-proxy relays pagination, cancellation, list_changed and long names (an SDK-built server)', () => {
  let proxy: Proxy;
  let feature: FeatureUpstream;
  beforeAll(async () => {
    // Names leave room for a 4-character client prefix such as Open WebUI's `gw1_`.
    [proxy, feature] = await Promise.all([
      startProxy({ env: { MCP_TOOL_NAME_MAX_LENGTH: '60', UPSTREAM_MAX_RESPONSE_BYTES: '1000000' } }),
      startFeatureUpstream(),
    ]);
  });
  afterAll(async () => {
    await feature?.close();
    await proxy?.close();
  });

  async function grantedServer(url = feature.url) {
    const server = await proxy.db.repos.servers.create({ id: uniqueId('feat'), name: 'Feature', transport: 'streamable-http', url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, server.id, ['*']);
    return { serverId: server.id, user: makeIdentity({ groups: [group.name] }) };
  }

  it("/mcp/{server} passes the server's pages and cursors through; /mcp answers every page at once", async () => {
    const { serverId, user } = await grantedServer();
    const one = await connectAs(proxy.url, `/mcp/${serverId}`, user);
    const all = await connectAs(proxy.url, '/mcp', user);
    try {
      const first = await one.client.listResources();
      expect(first.resources.map((r) => r.uri)).toEqual(['feature://item/0', 'feature://item/1']);
      expect(first.nextCursor).toBe('2');
      const second = await one.client.listResources({ cursor: first.nextCursor });
      expect(second.resources.map((r) => r.uri)).toEqual(['feature://item/2', 'feature://item/3']);
      const last = await one.client.listResources({ cursor: second.nextCursor });
      expect(last.resources.map((r) => r.uri)).toEqual(['feature://item/4']);
      expect(last.nextCursor).toBeUndefined();
      const prompts = await one.client.listPrompts();
      expect(prompts).toEqual({ prompts: [{ name: 'prompt-0' }, { name: 'prompt-1' }], nextCursor: '2' });

      const aggregated = await all.client.listResources();
      expect(aggregated.resources.map((r) => r.uri)).toEqual([0, 1, 2, 3, 4].map((i) => `mcpgw://${serverId}/feature://item/${i}`));
      expect(aggregated.nextCursor).toBeUndefined();
      expect((await all.client.listPrompts()).prompts.map((p) => p.name)).toEqual([0, 1, 2].map((i) => `${serverId}__prompt-${i}`));
    } finally {
      await one.close();
      await all.close();
    }
  });

  it("a caller's cancellation reaches the upstream server", async () => {
    const { serverId, user } = await grantedServer();
    const one = await connectAs(proxy.url, `/mcp/${serverId}`, user);
    try {
      const before = feature.cancelled.length;
      const controller = new AbortController();
      const call = one.client.callTool({ name: 'wait', arguments: {} }, undefined, { signal: controller.signal });
      await new Promise((r) => setTimeout(r, 300));
      controller.abort('changed my mind');
      await expect(call).rejects.toThrow();
      await waitFor(() => feature.cancelled.length > before, 5_000);
      // The session goes on.
      expect((await one.client.listTools()).tools.map((t) => t.name)).toContain('wait');
    } finally {
      await one.close();
    }
  });

  it("the server's tools/list_changed reaches sessions on the pooled connection, on /mcp/{server} and /mcp", async () => {
    const { serverId, user } = await grantedServer();
    const changed = { one: 0, all: 0 };
    const setup = (key: keyof typeof changed) => ({
      setup: (client: import('@modelcontextprotocol/sdk/client/index.js').Client) =>
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed[key] += 1)),
    });
    const one = await connectAs(proxy.url, `/mcp/${serverId}`, user, setup('one'));
    const all = await connectAs(proxy.url, '/mcp', user, setup('all'));
    const outsider = await connectAs(proxy.url, '/mcp', makeIdentity(), setup('all'));
    try {
      await one.client.listTools();
      await all.client.listTools();
      const added = uniqueId('added_');
      await feature.addTool(added);
      await waitFor(() => changed.one >= 1 && changed.all >= 1, 5_000);
      expect((await one.client.listTools()).tools.map((t) => t.name)).toContain(added);
      expect((await all.client.listTools()).tools.map((t) => t.name)).toContain(`${serverId}__${added}`);
      await new Promise((r) => setTimeout(r, 200));
      // The outsider may not use the server: it heard nothing (`all` counts both /mcp sessions).
      expect(changed.all).toBe(1);
    } finally {
      await Promise.all([one.close(), all.close(), outsider.close()]);
    }
  });

  it('on /mcp, names that are too long or carry other characters are shortened to MCP_TOOL_NAME_MAX_LENGTH of [A-Za-z0-9_-] and still call the right tool', async () => {
    const { serverId, user } = await grantedServer();
    const all = await connectAs(proxy.url, '/mcp', user);
    try {
      const names = (await all.client.listTools()).tools.map((t) => t.name);
      expect(names.every((n) => VALID_NAME.test(n) && n.length <= 60)).toBe(true);
      expect(names).toContain(`${serverId}__wait`);
      const dotted = names.find((n) => n.startsWith(`${serverId}__files_read_h`));
      const long = names.find((n) => n.startsWith(`${serverId}__very_long_`));
      expect(dotted).toBeDefined();
      expect(long).toBeDefined();
      expect(await all.client.callTool({ name: dotted!, arguments: {} })).toEqual({ content: [{ type: 'text', text: 'ran files.read' }] });
      expect(await all.client.callTool({ name: long!, arguments: {} })).toEqual({ content: [{ type: 'text', text: `ran very_${'long_'.repeat(15)}name` }] });
      // A shortened name that stands for nothing is an unknown tool.
      await expect(all.client.callTool({ name: `${serverId}__files_read_h00000000`, arguments: {} })).rejects.toThrow(/Unknown tool/);
    } finally {
      await all.close();
    }
  });

  it('an answer larger than UPSTREAM_MAX_RESPONSE_BYTES is cut off: the caller gets an error, not the megabytes, and the server stays usable', async () => {
    const jsonMode = await startFeatureUpstream({ json: true });
    try {
      // An SSE answer breaks the stream (the connection is made again); a JSON answer says why.
      for (const [url, why] of [[feature.url, ''], [jsonMode.url, ' (response too large)']] as const) {
        const { serverId, user } = await grantedServer(url);
        const one = await connectAs(proxy.url, `/mcp/${serverId}`, user);
        expect((await one.client.callTool({ name: 'huge', arguments: { size: 1000 } })).content).toEqual([{ type: 'text', text: 'x'.repeat(1000) }]);
        const started = Date.now();
        await expect(one.client.callTool({ name: 'huge', arguments: { size: 3_000_000 } })).rejects.toMatchObject({
          code: -32002,
          message: expect.stringContaining(`Upstream server unavailable: ${serverId}${why}`),
        });
        expect(Date.now() - started).toBeLessThan(3_000);
        expect((await one.client.callTool({ name: 'huge', arguments: { size: 10 } })).content).toEqual([{ type: 'text', text: 'x'.repeat(10) }]);
        await one.close();
      }
    } finally {
      await jsonMode.close();
    }
  });
});
