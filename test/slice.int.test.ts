import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createFixtures, gatewayHeaders, testIdentity, uniqueId, waitFor, type Fixtures } from '@mcpgw/test-support';
import { startInProcessStack, type InProcessStack } from './support/in-process-stack.js';

/**
 * The foundation's end-to-end slice: an official SDK client → gateway (API key, rate limit,
 * signed headers) → mcp-proxy (signature, policy, session) → the demo MCP server, over real HTTP.
 */
let stack: InProcessStack;
let fx: Fixtures;
let demoId: string;

beforeAll(async () => {
  stack = await startInProcessStack({ RATE_LIMIT_PER_MINUTE: '40' });
  fx = createFixtures(stack.t.repos);
  demoId = uniqueId('demo');
  await stack.t.repos.servers.create({ id: demoId, name: 'Demo', transport: 'streamable-http', url: stack.demoUrl });
});
afterAll(async () => {
  await stack?.close();
});

async function connect(path: string, key: string, extraHeaders: Record<string, string> = {}) {
  const client = new Client({ name: 'slice-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${stack.gatewayUrl}${path}`), {
    requestInit: { headers: { authorization: `Bearer ${key}`, ...extraHeaders } },
  });
  await client.connect(transport);
  return {
    client,
    async close() {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

async function userInGroupWithGrant(tools: string[]) {
  const group = await fx.group();
  await stack.t.repos.access.setGrant(group.id, demoId, tools);
  return fx.user({ groups: [group] });
}

describe('a caller whose group grants the demo server', () => {
  it('lists its tools and calls one through /mcp/{server}', async () => {
    const { key } = await userInGroupWithGrant(['*']);
    const c = await connect(`/mcp/${demoId}`, key);
    try {
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'get_current_time']);
      expect(await c.client.callTool({ name: 'add', arguments: { a: 20, b: 22 } })).toMatchObject({ structuredContent: { sum: 42 } });
    } finally {
      await c.close();
    }
  });

  it('sees the same tools prefixed with the server id on /mcp and can call them', async () => {
    const { key } = await userInGroupWithGrant(['*']);
    const c = await connect('/mcp', key);
    try {
      const names = (await c.client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining([`${demoId}__echo`, `${demoId}__add`, `${demoId}__get_current_time`]));
      expect(await c.client.callTool({ name: `${demoId}__echo`, arguments: { text: 'via /mcp' } })).toMatchObject({
        content: [{ type: 'text', text: 'via /mcp' }],
      });
    } finally {
      await c.close();
    }
  });
});

describe('a caller in no group', () => {
  it('lists nothing on /mcp and gets a JSON-RPC error when calling a tool', async () => {
    const { key } = await fx.user();
    const c = await connect('/mcp', key);
    try {
      expect((await c.client.listTools()).tools.filter((t) => t.name.startsWith(`${demoId}__`))).toEqual([]);
      const err = await c.client.callTool({ name: `${demoId}__echo`, arguments: { text: 'x' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).message).toMatch(/Unknown tool/);
    } finally {
      await c.close();
    }
  });

  it('cannot open the server on /mcp/{server}, even with forged identity headers', async () => {
    const { key } = await fx.user();
    await expect(connect(`/mcp/${demoId}`, key, { 'X-User-Admin': 'true', 'X-User-Groups': 'MCP-Admin' })).rejects.toThrow();
  });
});

describe('a grant limited to one tool', () => {
  it('exposes only that tool, and list and call agree', async () => {
    const { key } = await userInGroupWithGrant(['echo']);
    const c = await connect(`/mcp/${demoId}`, key);
    try {
      expect((await c.client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
      expect(await c.client.callTool({ name: 'echo', arguments: { text: 'allowed' } })).toMatchObject({ content: [{ text: 'allowed' }] });
      const err = await c.client.callTool({ name: 'add', arguments: { a: 1, b: 2 } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(McpError);
      expect((err as McpError).message).not.toMatch(/add.*exists|forbidden/i);
    } finally {
      await c.close();
    }
  });
});

describe('limits and refusals end to end', () => {
  it('answers 429 with Retry-After once the caller is over its limit', async () => {
    const { key } = await userInGroupWithGrant(['*']);
    let last: Response | undefined;
    for (let i = 0; i < 41; i++) {
      last = await fetch(`${stack.gatewayUrl}/mcp/${demoId}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await last!.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32029 } });
  });

  it('refuses identity headers sent straight to mcp-proxy or the admin portal', async () => {
    const forged = { 'x-user-id': 'x', 'x-user-admin': 'true', 'x-auth-method': 'apikey', 'x-gateway-validated': 'true' };
    const proxy = await fetch(`${stack.mcpProxyUrl}/mcp`, { method: 'POST', headers: { ...forged, 'content-type': 'application/json' }, body: '{}' });
    expect(proxy.status).toBe(403);
    const portal = await fetch(`${stack.adminPortalUrl}/mcp-admin/api/servers`, { headers: forged });
    expect(portal.status).toBe(403);
    // A correctly signed request made with the wrong secret fails just the same.
    const wrong = gatewayHeaders('not-the-secret-0123456789abcdef0123456789', 'GET', '/mcp-admin/api/servers', testIdentity({ admin: true }));
    expect((await fetch(`${stack.adminPortalUrl}/mcp-admin/api/servers`, { headers: wrong })).status).toBe(403);
    const events = await waitFor(async () => {
      const rows = await stack.t.repos.securityEvents.list({ kind: 'bad-gateway-signature' });
      return rows.length >= 3 ? rows : null;
    });
    expect(new Set(events.map((e) => e.service))).toEqual(new Set(['mcp-proxy', 'admin-portal']));
  });
});

// The shared authentication suite runs against these routes per auth method in auth-suite.int.test.ts.
