import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import { connectAs, makeIdentity, startDemoUpstream, startProxy, type Proxy, type Upstream } from './support/harness.js';

function listening(counts: Record<string, number>) {
  return (client: Client) => {
    const count = (key: string) => () => void (counts[key] = (counts[key] ?? 0) + 1);
    client.setNotificationHandler(ToolListChangedNotificationSchema, count('tools'));
    client.setNotificationHandler(PromptListChangedNotificationSchema, count('prompts'));
    client.setNotificationHandler(ResourceListChangedNotificationSchema, count('resources'));
  };
}

describe('mcp-proxy: a change of grants reaches running sessions (list_changed)', () => {
  let proxy: Proxy;
  let demo: Upstream;
  beforeAll(async () => {
    [proxy, demo] = await Promise.all([startProxy({ env: { MCP_GRANT_WATCH_SECONDS: '1' } }), startDemoUpstream()]);
  });
  afterAll(async () => {
    await demo?.close();
    await proxy?.close();
  });

  it('a tool granted, then the server revoked: the open session is told each time and lists what it may now use', async () => {
    const server = await proxy.db.repos.servers.create({ id: uniqueId('demo'), name: 'Demo', transport: 'streamable-http', url: demo.url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, server.id, ['echo']);
    const user = makeIdentity({ groups: [group.name] });
    const counts: Record<string, number> = {};
    const oneCounts: Record<string, number> = {};
    const bystanderCounts: Record<string, number> = {};
    const all = await connectAs(proxy.url, '/mcp', user, { setup: listening(counts) });
    const one = await connectAs(proxy.url, `/mcp/${server.id}`, user, { setup: listening(oneCounts) });
    const bystander = await connectAs(proxy.url, '/mcp', makeIdentity(), { setup: listening(bystanderCounts) });
    try {
      expect((await all.client.listTools()).tools.map((t) => t.name)).toEqual([`${server.id}__echo`]);
      await proxy.deps.hub.checkGrants(); // the baseline, without waiting for the timer

      await proxy.db.repos.access.setGrant(group.id, server.id, ['echo', 'add']);
      await waitFor(() => counts.tools === 1, 5_000);
      expect(counts.prompts).toBeUndefined(); // same servers: only the tool list changed
      expect((await all.client.listTools()).tools.map((t) => t.name).sort()).toEqual([`${server.id}__add`, `${server.id}__echo`]);

      await proxy.db.repos.access.removeGrant(group.id, server.id);
      await waitFor(() => counts.tools === 2 && counts.prompts === 1 && counts.resources === 1, 5_000);
      expect((await all.client.listTools()).tools).toEqual([]);
      // /mcp/{server} heard both changes of its server.
      await waitFor(() => oneCounts.tools === 2, 5_000);
      expect((await one.client.listTools()).tools).toEqual([]);
      await expect(one.client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow(/Unknown tool/);
      // The bystander's catalog did not change: it heard nothing.
      expect(bystanderCounts).toEqual({});
    } finally {
      await Promise.all([all.close(), one.close(), bystander.close()]);
    }
  });
});
