import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import { connectAs, gatewayFetch, makeIdentity, rawPost, startDemoUpstream, startProxy, type Proxy } from './support/harness.js';

const METRICS_TOKEN = 'mcp-proxy-metrics-token-0123456789abcdef';

describe('mcp-proxy: per-tool rate limits, argument inspection, metrics', () => {
  let proxy: Proxy;
  let upstream: Awaited<ReturnType<typeof startDemoUpstream>>;
  let serverId: string;
  let groupName: string;

  beforeAll(async () => {
    proxy = await startProxy({ env: { LIMIT_RULES_CACHE_SECONDS: '1', METRICS_TOKEN } });
    upstream = await startDemoUpstream();
    serverId = uniqueId('demo');
    await proxy.db.repos.servers.create({ id: serverId, name: 'Demo', transport: 'streamable-http', url: upstream.url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, serverId, ['*']);
    groupName = group.name;
  });
  afterAll(async () => {
    await upstream?.close();
    await proxy?.close();
  });

  const events = (requestKind: string, userId: string) =>
    waitFor(async () => {
      const rows = (await proxy.db.repos.securityEvents.search({ userId, kinds: [requestKind] })) ?? [];
      return rows.length > 0 ? rows : null;
    }, 5_000);

  it('a tool rule added in the database limits tools/call within seconds; the caller reads a JSON-RPC error; removing it lifts the limit', async () => {
    const alice = makeIdentity({ groups: [groupName] });
    const session = await connectAs(proxy.url, `/mcp/${serverId}`, alice);
    try {
      const rule = await proxy.db.repos.rateLimitRules.create({ scope: 'tool', serverId, tool: 'echo', points: 2, windowSeconds: 60 });
      const added = Date.now();
      // Within LIMIT_RULES_CACHE_SECONDS (1 s) the rule is in force: the third call in the window is refused.
      const refused = await waitFor(async () => {
        const outcome = await session.client.callTool({ name: 'echo', arguments: { text: 'x' } }).then(
          () => null,
          (err: unknown) => err,
        );
        return outcome instanceof McpError ? outcome : null;
      }, 5_000, 20);
      expect(Date.now() - added).toBeLessThan(3_000);
      expect(refused.code).toBe(-32029);
      expect(refused.message).toMatch(/Rate limit exceeded \(tool .+\/echo per user\); retry after \d+ s/);
      expect(refused.data).toMatchObject({ retryAfter: expect.any(Number), rateLimitPolicy: `"tool ${serverId}/echo per user";q=2;w=60` });
      // Refused calls never reached the upstream; other tools are not limited.
      const echoCalls = upstream.toolCalls.filter((n) => n === 'echo').length;
      await expect(session.client.callTool({ name: 'echo', arguments: { text: 'y' } })).rejects.toBeInstanceOf(McpError);
      expect(upstream.toolCalls.filter((n) => n === 'echo').length).toBe(echoCalls);
      expect((await session.client.callTool({ name: 'add', arguments: { a: 1, b: 1 } })).structuredContent).toEqual({ sum: 2 });
      expect((await events('rate-limited', alice.userId))[0]).toMatchObject({ service: 'mcp-proxy', reason: `tool ${serverId}/echo per user` });

      await proxy.db.repos.rateLimitRules.remove(rule.id);
      await waitFor(async () => session.client.callTool({ name: 'echo', arguments: { text: 'z' } }).then(() => true, () => false), 5_000, 50);
    } finally {
      await session.close();
    }
  });

  it('records suspicious tool arguments (path traversal) as a security event', async () => {
    const bob = makeIdentity({ groups: [groupName] });
    const session = await connectAs(proxy.url, `/mcp/${serverId}`, bob);
    try {
      await session.client.callTool({ name: 'echo', arguments: { text: '../../../etc/passwd' } });
      const [event] = await events('suspicious-tool-arguments', bob.userId);
      expect(event).toMatchObject({ reason: 'path-traversal, sensitive-file', service: 'mcp-proxy', details: { serverId, tool: 'echo' } });
    } finally {
      await session.close();
    }
  });

  it('records malformed JSON-RPC: unparsable JSON, and JSON that is not JSON-RPC', async () => {
    const carol = makeIdentity({ groups: [groupName] });
    const unparsable = await gatewayFetch(carol)(`${proxy.url}/mcp/${serverId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc": "2.0", "method": ',
    });
    expect(unparsable.status).toBe(400);
    expect(await unparsable.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32600 } });
    const [parseEvent] = await events('malformed-json-rpc', carol.userId);
    expect(parseEvent).toMatchObject({ service: 'mcp-proxy', reason: 'Request body is not valid JSON' });
    const signed = await rawPost(`${proxy.url}/mcp/${serverId}`, { hello: 'world' }, { identity: carol });
    expect(signed.status).toBe(400);
    await waitFor(async () => (await events('malformed-json-rpc', carol.userId)).length === 2, 5_000);
    const [event] = await events('malformed-json-rpc', carol.userId);
    expect(event).toMatchObject({ service: 'mcp-proxy', reason: 'body is JSON but not a JSON-RPC 2.0 message' });
  });

  it('serves /metrics only with its token: request counts by route and upstream latency per server', async () => {
    expect((await fetch(`${proxy.url}/metrics`)).status).toBe(401);
    const text = await (await fetch(`${proxy.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/mcp\/:server",status="200",service="mcp-proxy"\} \d+/);
    expect(text).toMatch(new RegExp(`mcpgw_upstream_requests_total\\{server="${serverId}",operation="tools/call",outcome="ok",service="mcp-proxy"\\} \\d+`));
    expect(text).toMatch(new RegExp(`mcpgw_upstream_duration_seconds_count\\{[^}]*server="${serverId}",operation="tools/call"[^}]*\\} \\d+`));
    expect(text).toMatch(/mcpgw_rate_limit_decisions_total\{limiter="tool-rule",outcome="limited",store="memory",service="mcp-proxy"\} \d+/);
  });
});
