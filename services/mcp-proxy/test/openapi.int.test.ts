import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '@mcpgw/identity';
import { createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import { connectAs, gatewayFetch, makeIdentity, startDemoUpstream, startProxy, type Proxy, type Upstream } from './support/harness.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function getJson(identity: Identity, url: string): Promise<{ status: number; body: Json }> {
  const res = await gatewayFetch(identity)(url);
  return { status: res.status, body: (await res.json()) as Json };
}

async function post(identity: Identity, url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await gatewayFetch(identity)(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('mcp-proxy OpenAPI tool server (Open WebUI, mcpo-compatible) and META_TOOLS_MODE', () => {
  let proxy: Proxy;
  let meta: Proxy;
  let demo: Upstream & { toolCalls: string[] };
  beforeAll(async () => {
    [proxy, meta, demo] = await Promise.all([startProxy(), startProxy({ env: { META_TOOLS_MODE: 'true' } }), startDemoUpstream()]);
  });
  afterAll(async () => {
    await demo?.close();
    await Promise.all([proxy?.close(), meta?.close()]);
  });

  async function granted(p: Proxy, tools: string[]) {
    const server = await p.db.repos.servers.create({ id: uniqueId('demo'), name: 'Demo', description: 'The demo server', transport: 'streamable-http', url: demo.url });
    const group = await createFixtures(p.db.repos).group();
    await p.db.repos.access.setGrant(group.id, server.id, tools);
    return { serverId: server.id, user: makeIdentity({ groups: [group.name] }) };
  }

  it("describes each tool the caller may call as a POST operation with the tool's input schema as request body", async () => {
    const { serverId, user } = await granted(proxy, ['echo', 'add']);
    const { status, body } = await getJson(user, `${proxy.url}/servers/${serverId}/openapi.json`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ openapi: '3.1.0', info: { title: 'Demo', description: 'The demo server' }, servers: [{ url: `/servers/${serverId}` }] });
    expect(Object.keys(body.paths).sort()).toEqual(['/add', '/echo']);
    const echo = body.paths['/echo'].post;
    expect(echo).toMatchObject({ operationId: 'echo', summary: 'Echo' });
    expect(echo.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string', maxLength: 10000, description: 'Text to echo back' } },
      required: ['text'],
    });
    expect(echo.requestBody.content['application/json'].schema).not.toHaveProperty('$schema');
    expect(body.paths['/add'].post.responses['200'].content['application/json'].schema).toMatchObject({ properties: { sum: { type: 'number' } } });

    // Another caller sees another document; one without access gets 404, like a server that does not exist.
    const { user: other } = await granted(proxy, ['*']);
    expect((await getJson(other, `${proxy.url}/servers/${serverId}/openapi.json`)).status).toBe(404);
    expect((await getJson(user, `${proxy.url}/servers/${uniqueId('nosuch')}/openapi.json`)).status).toBe(404);
  });

  it('POST calls the tool as the caller: results as JSON, tool errors as 500, hidden tools as 404 without reaching the server', async () => {
    const { serverId, user } = await granted(proxy, ['echo', 'add', 'get_current_time']);
    const base = `${proxy.url}/servers/${serverId}`;
    expect(await post(user, `${base}/echo`, { text: 'héllo' })).toEqual({ status: 200, body: 'héllo' });
    expect(await post(user, `${base}/echo`, { text: '{"a":1}' })).toEqual({ status: 200, body: { a: 1 } });
    expect(await post(user, `${base}/add`, { a: 40, b: 2 })).toEqual({ status: 200, body: { sum: 42 } });
    expect(await post(user, `${base}/get_current_time`, { timezone: 'Nowhere/Atlantis' })).toEqual({
      status: 500,
      body: { detail: { message: 'Unknown time zone: Nowhere/Atlantis' } },
    });
    expect(await post(user, `${base}/add`, [1, 2])).toMatchObject({ status: 422 });

    const { serverId: narrowId, user: narrow } = await granted(proxy, ['echo']);
    const calls = demo.toolCalls.length;
    expect(await post(narrow, `${proxy.url}/servers/${narrowId}/add`, { a: 1, b: 2 })).toEqual({ status: 404, body: { detail: { message: 'Unknown tool: add (no such tool, or not permitted)' } } });
    expect(await post(makeIdentity(), `${base}/echo`, { text: 'x' })).toMatchObject({ status: 404 });
    expect(demo.toolCalls.length).toBe(calls);
    await waitFor(async () => (await proxy.db.repos.securityEvents.list({ kind: 'tool-denied' })).some((e) => e.userId === narrow.userId));
  });

  it('META_TOOLS_MODE: MCP lists search_tools and call_tool, which find and call only what the caller may use', async () => {
    const { serverId, user } = await granted(meta, ['echo', 'get_current_time']);
    const all = await connectAs(meta.url, '/mcp', user);
    try {
      expect((await all.client.listTools()).tools.map((t) => t.name)).toEqual(['search_tools', 'call_tool']);
      const found = await all.client.callTool({ name: 'search_tools', arguments: { query: 'echo' } });
      expect(found.structuredContent).toEqual({ tools: [expect.objectContaining({ name: `${serverId}__echo`, inputSchema: expect.any(Object) })] });
      const everything = await all.client.callTool({ name: 'search_tools', arguments: {} });
      expect((everything.structuredContent as { tools: { name: string }[] }).tools.map((t) => t.name).sort()).toEqual([`${serverId}__echo`, `${serverId}__get_current_time`]);
      expect(await all.client.callTool({ name: 'call_tool', arguments: { name: `${serverId}__echo`, arguments: { text: 'via meta' } } })).toEqual({
        content: [{ type: 'text', text: 'via meta' }],
      });
      await expect(all.client.callTool({ name: 'call_tool', arguments: { name: `${serverId}__add`, arguments: { a: 1, b: 2 } } })).rejects.toThrow(/Unknown tool/);
    } finally {
      await all.close();
    }
  });

  it('META_TOOLS_MODE: the OpenAPI document has the two meta operations, and call_tool calls through them', async () => {
    const { serverId, user } = await granted(meta, ['echo']);
    const { body } = await getJson(user, `${meta.url}/servers/${serverId}/openapi.json`);
    expect(Object.keys(body.paths).sort()).toEqual(['/call_tool', '/search_tools']);
    const base = `${meta.url}/servers/${serverId}`;
    expect(await post(user, `${base}/search_tools`, { query: 'echo' })).toMatchObject({ status: 200, body: { tools: [{ name: 'echo' }] } });
    expect(await post(user, `${base}/call_tool`, { name: 'echo', arguments: { text: 'meta over openapi' } })).toEqual({ status: 200, body: 'meta over openapi' });
    expect(await post(user, `${base}/call_tool`, { name: 'add', arguments: { a: 1, b: 1 } })).toMatchObject({ status: 404 });
  });
});
