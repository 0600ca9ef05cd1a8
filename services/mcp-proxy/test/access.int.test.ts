import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@mcpgw/db';
import { createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import { connectAs, initializeBody, makeIdentity, rawPost, startDemoUpstream, startProxy, type Proxy } from './support/harness.js';

describe('mcp-proxy: who sees and calls which tools', () => {
  let proxy: Proxy;
  beforeAll(async () => {
    proxy = await startProxy();
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const register = (url: string): Promise<Server> =>
    proxy.db.repos.servers.create({ id: uniqueId('demo'), name: 'Demo', transport: 'streamable-http', url });

  async function groupGranting(grants: Record<string, string[]>) {
    const group = await createFixtures(proxy.db.repos).group();
    for (const [serverId, tools] of Object.entries(grants)) await proxy.db.repos.access.setGrant(group.id, serverId, tools);
    return group;
  }

  it('a group granting every tool: the server lists and runs its tools on /mcp/:server and, namespaced, on /mcp', async () => {
    const upstream = await startDemoUpstream();
    try {
      const server = await register(upstream.url);
      const group = await groupGranting({ [server.id]: ['*'] });
      const alice = makeIdentity({ groups: [group.name] });

      const one = await connectAs(proxy.url, `/mcp/${server.id}`, alice);
      expect((await one.client.listTools()).tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'get_current_time']);
      expect(await one.client.callTool({ name: 'echo', arguments: { text: 'héllo' } })).toEqual({ content: [{ type: 'text', text: 'héllo' }] });
      // Results pass through unchanged: structuredContent and isError included.
      expect(await one.client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).toEqual({
        content: [{ type: 'text', text: '42' }],
        structuredContent: { sum: 42 },
      });
      const badZone = await one.client.callTool({ name: 'get_current_time', arguments: { timezone: 'Nowhere/Atlantis' } });
      expect(badZone).toMatchObject({ isError: true, content: [{ type: 'text', text: 'Unknown time zone: Nowhere/Atlantis' }] });

      const all = await connectAs(proxy.url, '/mcp', alice);
      const names = (await all.client.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual([`${server.id}__add`, `${server.id}__echo`, `${server.id}__get_current_time`]);
      expect(await all.client.callTool({ name: `${server.id}__echo`, arguments: { text: 'via /mcp' } })).toEqual({
        content: [{ type: 'text', text: 'via /mcp' }],
      });
      expect((await all.client.callTool({ name: `${server.id}__add`, arguments: { a: 1, b: 2 } })).structuredContent).toEqual({ sum: 3 });

      // Both downstream sessions ran over one pooled upstream connection.
      expect(upstream.sessionCount()).toBe(1);
      expect(upstream.toolCalls).toEqual(['echo', 'add', 'get_current_time', 'echo', 'add']);
      await one.close();
      await all.close();
    } finally {
      await upstream.close();
    }
  });

  it('a user in no group lists nothing on /mcp, cannot call, and /mcp/:server answers 404 like an unknown server', async () => {
    const upstream = await startDemoUpstream();
    try {
      const server = await register(upstream.url);
      await groupGranting({ [server.id]: ['*'] }); // someone else's access
      const bob = makeIdentity();

      const all = await connectAs(proxy.url, '/mcp', bob);
      expect((await all.client.listTools()).tools).toEqual([]);
      await expect(all.client.callTool({ name: `${server.id}__echo`, arguments: { text: 'x' } })).rejects.toMatchObject({
        code: ErrorCode.InvalidParams,
        message: expect.stringContaining(`Unknown tool: ${server.id}__echo`),
      });
      await all.close();

      await expect(connectAs(proxy.url, `/mcp/${server.id}`, bob)).rejects.toMatchObject({ code: 404 });
      const forbidden = await rawPost(`${proxy.url}/mcp/${server.id}`, initializeBody(), { identity: bob });
      const unknown = await rawPost(`${proxy.url}/mcp/${uniqueId('nosuch')}`, initializeBody(), { identity: bob });
      expect(forbidden.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(forbidden.headers.get('mcp-session-id')).toBeNull();
      type ErrorBody = { error: Record<string, unknown> };
      const [forbiddenBody, unknownBody] = [(await forbidden.json()) as ErrorBody, (await unknown.json()) as ErrorBody];
      expect(forbiddenBody).toMatchObject({ jsonrpc: '2.0', id: null, error: { message: 'Unknown server' } });
      // No oracle: forbidden and unknown look the same (apart from the request id).
      expect({ ...forbiddenBody.error, data: undefined }).toEqual({ ...unknownBody.error, data: undefined });
      expect(upstream.toolCalls).toEqual([]);
    } finally {
      await upstream.close();
    }
  });

  it('a grant of [echo] shows only echo, refuses add by name without reaching the upstream, and stores a tool-denied event', async () => {
    const upstream = await startDemoUpstream();
    try {
      const server = await register(upstream.url);
      const group = await groupGranting({ [server.id]: ['echo'] });
      const carol = makeIdentity({ groups: [group.name] });

      const one = await connectAs(proxy.url, `/mcp/${server.id}`, carol);
      expect((await one.client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
      await expect(one.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).rejects.toMatchObject({
        code: ErrorCode.InvalidParams,
        message: expect.stringContaining('Unknown tool: add (no such tool, or not permitted)'),
      });
      expect(await one.client.callTool({ name: 'echo', arguments: { text: 'ok' } })).toEqual({ content: [{ type: 'text', text: 'ok' }] });

      const all = await connectAs(proxy.url, '/mcp', carol);
      expect((await all.client.listTools()).tools.map((t) => t.name)).toEqual([`${server.id}__echo`]);
      await expect(all.client.callTool({ name: `${server.id}__add`, arguments: { a: 1, b: 2 } })).rejects.toMatchObject({
        code: ErrorCode.InvalidParams,
        message: expect.stringContaining(`Unknown tool: ${server.id}__add`),
      });
      // The denied tool and a tool that does not exist get the same error.
      await expect(all.client.callTool({ name: `${server.id}__nope`, arguments: {} })).rejects.toMatchObject({
        code: ErrorCode.InvalidParams,
        message: expect.stringContaining(`Unknown tool: ${server.id}__nope`),
      });

      expect(upstream.toolCalls).toEqual(['echo']);
      const events = await waitFor(async () => {
        const rows = (await proxy.db.repos.securityEvents.list({ kind: 'tool-denied' })).filter((e) => e.userId === carol.userId);
        return rows.length >= 3 ? rows : null;
      });
      expect(events.map((e) => e.details.tool).sort()).toEqual(['add', 'add', 'nope']);
      expect(events.every((e) => e.reason === 'tool-not-granted' && e.service === 'mcp-proxy' && e.details.serverId === server.id)).toBe(true);
      await one.close();
      await all.close();
    } finally {
      await upstream.close();
    }
  });

  it("an API key's block list hides a server even from an admin; its allow list narrows a user's grants", async () => {
    const upstream = await startDemoUpstream();
    try {
      const blocked = await register(upstream.url);
      const open = await register(upstream.url);

      const admin = makeIdentity({ admin: true, blockServers: [blocked.id] });
      const all = await connectAs(proxy.url, '/mcp', admin);
      const names = (await all.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain(`${open.id}__echo`);
      expect(names.filter((n) => n.startsWith(`${blocked.id}__`))).toEqual([]);
      await expect(all.client.callTool({ name: `${blocked.id}__echo`, arguments: { text: 'x' } })).rejects.toMatchObject({
        code: ErrorCode.InvalidParams,
      });
      await all.close();
      await expect(connectAs(proxy.url, `/mcp/${blocked.id}`, admin)).rejects.toMatchObject({ code: 404 });

      const group = await groupGranting({ [blocked.id]: ['*'], [open.id]: ['*'] });
      const narrowed = makeIdentity({ groups: [group.name], allowServers: [open.id] });
      const mine = await connectAs(proxy.url, '/mcp', narrowed);
      expect((await mine.client.listTools()).tools.map((t) => t.name).sort()).toEqual([
        `${open.id}__add`,
        `${open.id}__echo`,
        `${open.id}__get_current_time`,
      ]);
      await mine.close();
      expect(upstream.toolCalls).toEqual([]);
    } finally {
      await upstream.close();
    }
  });

  it('tells the gateway the MCP method, server and tool in internal response headers', async () => {
    const upstream = await startDemoUpstream();
    try {
      const server = await register(upstream.url);
      const dave = makeIdentity({ groups: [(await groupGranting({ [server.id]: ['*'] })).name] });
      const init = await rawPost(`${proxy.url}/mcp`, initializeBody(), { identity: dave });
      expect(init.headers.get('x-mcpgw-mcp-method')).toBe('initialize');
      const sessionId = init.headers.get('mcp-session-id')!;
      await init.body?.cancel();
      const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: `${server.id}__echo`, arguments: { text: 'hi' } } };
      const res = await rawPost(`${proxy.url}/mcp`, call, { identity: dave, sessionId });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-mcpgw-mcp-method')).toBe('tools/call');
      expect(res.headers.get('x-mcpgw-server')).toBe(server.id);
      expect(res.headers.get('x-mcpgw-tool')).toBe('echo');
      expect(await res.text()).toContain('"text":"hi"');
    } finally {
      await upstream.close();
    }
  });
});
