import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type ClientCapabilities,
  type Notification,
} from '@modelcontextprotocol/sdk/types.js';
import { createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import { connectAs, makeIdentity, startProxy, type Proxy } from './support/harness.js';
import { startEverything, type EverythingProcess } from './support/upstreams.js';

/** server-everything stamps dynamic resources with the time of day; two reads a second apart differ only there. */
function stable(value: unknown): unknown {
  const TIME = /\d{1,2}:\d{2}:\d{2}(\s?[AP]M)?/g;
  return JSON.parse(JSON.stringify(value), (key, v: unknown) => {
    if (key === 'blob' && typeof v === 'string') return Buffer.from(v, 'base64').toString('utf8').replace(TIME, 'T');
    return typeof v === 'string' ? v.replace(TIME, 'T') : v;
  });
}

describe('mcp-proxy relays the whole protocol (server-everything over Streamable HTTP)', () => {
  let proxy: Proxy;
  let everything: EverythingProcess;
  beforeAll(async () => {
    [proxy, everything] = await Promise.all([startProxy(), startEverything('streamableHttp')]);
  });
  afterAll(async () => {
    await everything?.close();
    await proxy?.close();
  });

  async function grantedServer() {
    const server = await proxy.db.repos.servers.create({ id: uniqueId('every'), name: 'Everything', transport: 'streamable-http', url: everything.url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, server.id, ['*']);
    return { serverId: server.id, user: makeIdentity({ groups: [group.name] }) };
  }

  async function direct(capabilities: ClientCapabilities = {}, setup?: (client: Client) => void) {
    const client = new Client({ name: 'test-caller', version: '1' }, { capabilities });
    setup?.(client);
    const transport = new StreamableHTTPClientTransport(new URL(everything.url));
    await client.connect(transport);
    return { client, close: async () => { await transport.terminateSession().catch(() => undefined); await client.close(); } };
  }

  it('/mcp/{server} cannot be told from the server itself: initialize, lists, reads, prompts, completion and tool results are the same', async () => {
    const { serverId, user } = await grantedServer();
    const via = await connectAs(proxy.url, `/mcp/${serverId}`, user);
    const own = await direct();
    try {
      const [a, b] = [via.client, own.client];
      expect(a.getServerVersion()).toEqual(b.getServerVersion());
      expect(a.getInstructions()).toEqual(b.getInstructions());
      expect(a.getServerCapabilities()).toMatchObject({ resources: { subscribe: true }, prompts: {}, logging: {}, completions: {}, tools: {} });

      expect(await a.listTools()).toEqual(await b.listTools());
      expect(await a.listResources()).toEqual(await b.listResources());
      expect(await a.listResourceTemplates()).toEqual(await b.listResourceTemplates());
      const doc = 'demo://resource/static/document/architecture.md';
      expect(await a.readResource({ uri: doc })).toEqual(await b.readResource({ uri: doc }));
      for (const uri of ['demo://resource/dynamic/text/3', 'demo://resource/dynamic/blob/4']) {
        expect(stable(await a.readResource({ uri }))).toEqual(stable(await b.readResource({ uri })));
      }
      expect(await a.listPrompts()).toEqual(await b.listPrompts());
      expect(await a.getPrompt({ name: 'args-prompt', arguments: { city: 'Lyon', state: 'Rhône' } })).toEqual(
        await b.getPrompt({ name: 'args-prompt', arguments: { city: 'Lyon', state: 'Rhône' } }),
      );
      const embedded = { name: 'resource-prompt', arguments: { resourceType: 'Text', resourceId: '2' } };
      expect(stable(await a.getPrompt(embedded))).toEqual(stable(await b.getPrompt(embedded)));
      const promptCompletion = { ref: { type: 'ref/prompt' as const, name: 'completable-prompt' }, argument: { name: 'department', value: 'S' } };
      expect((await a.complete(promptCompletion)).completion.values.length).toBeGreaterThan(0);
      expect(await a.complete(promptCompletion)).toEqual(await b.complete(promptCompletion));
      const templateCompletion = { ref: { type: 'ref/resource' as const, uri: 'demo://resource/dynamic/text/{resourceId}' }, argument: { name: 'resourceId', value: '7' } };
      expect(await a.complete(templateCompletion)).toEqual(await b.complete(templateCompletion));
      await expect(a.ping()).resolves.toEqual({});

      // Tool results as they came: images, structured content, embedded resources, annotations, links.
      const calls = [
        { name: 'get-tiny-image', arguments: {} },
        { name: 'get-structured-content', arguments: { location: 'Chicago' } },
        { name: 'get-resource-reference', arguments: { resourceType: 'Blob', resourceId: 5 } },
        { name: 'get-annotated-message', arguments: { messageType: 'error', includeImage: true } },
        { name: 'get-resource-links', arguments: { count: 2 } },
        { name: 'get-sum', arguments: { a: 19, b: 23 } },
      ];
      for (const call of calls) expect(stable(await a.callTool(call)), call.name).toEqual(stable(await b.callTool(call)));
      // An upstream's JSON-RPC error comes back as it was.
      const [viaError, ownError] = await Promise.all([a.readResource({ uri: 'demo://nope' }).catch((e: unknown) => e), b.readResource({ uri: 'demo://nope' }).catch((e: unknown) => e)]);
      expect(viaError).toMatchObject({ code: (ownError as { code: number }).code, message: (ownError as Error).message });
    } finally {
      await via.close();
      await own.close();
    }
  });

  it('relays progress notifications of a long operation to the caller, with its own progress token', async () => {
    const { serverId, user } = await grantedServer();
    const via = await connectAs(proxy.url, `/mcp/${serverId}`, user);
    try {
      const progress: { progress: number; total?: number }[] = [];
      const result = await via.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, undefined, {
        onprogress: (p) => progress.push({ progress: p.progress, total: p.total }),
      });
      expect(result.content).toEqual([{ type: 'text', text: 'Long running operation completed. Duration: 0.6 seconds, Steps: 3.' }]);
      expect(progress).toEqual([{ progress: 1, total: 3 }, { progress: 2, total: 3 }, { progress: 3, total: 3 }]);
    } finally {
      await via.close();
    }
  });

  it("forwards the server's sampling, elicitation and roots requests to the caller and its answers back", async () => {
    const { serverId, user } = await grantedServer();
    const seen: string[] = [];
    const via = await connectAs(proxy.url, `/mcp/${serverId}`, user, {
      capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
      setup(client) {
        client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
          seen.push(`sampling:${JSON.stringify(request.params.messages[0]?.content)}`);
          return { role: 'assistant', model: 'test-model', content: { type: 'text', text: 'forty-two' } };
        });
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
          seen.push(`elicitation:${request.params.message}`);
          return { action: 'accept', content: { name: 'Ada Lovelace', check: true } };
        });
        client.setRequestHandler(ListRootsRequestSchema, async () => {
          seen.push('roots');
          return { roots: [{ uri: 'file:///work/project', name: 'project' }] };
        });
      },
    });
    try {
      // The server offers these tools only to a client that declared the capabilities: its
      // connection through mcp-proxy declared them on the caller's behalf.
      const names = (await via.client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['trigger-sampling-request', 'trigger-elicitation-request', 'get-roots-list']));

      const sampled = await via.client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'the answer?', maxTokens: 5 } });
      expect(JSON.stringify(sampled.content)).toContain('forty-two');
      expect(seen.some((s) => s.startsWith('sampling:') && s.includes('the answer?'))).toBe(true);

      const elicited = await via.client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
      expect(JSON.stringify(elicited.content)).toContain('Ada Lovelace');

      const roots = await via.client.callTool({ name: 'get-roots-list', arguments: {} });
      expect(JSON.stringify(roots.content)).toContain('file:///work/project');
      expect(seen).toContain('roots');
      // The caller's roots changed: the server hears of it and asks again (over the caller's GET stream).
      const asked = seen.filter((s) => s === 'roots').length;
      await via.client.sendRootsListChanged();
      await waitFor(() => seen.filter((s) => s === 'roots').length > asked, 5_000);
    } finally {
      const connections = proxy.deps.upstreams.size();
      await via.close();
      // The session's own upstream connection ended with it (the pooled one stays).
      await waitFor(() => proxy.deps.upstreams.size() === connections - 1, 5_000);
    }
  });

  it('resources/subscribe and logging/setLevel live on the session: updates and log messages reach that caller', async () => {
    const { serverId, user } = await grantedServer();
    const notes: Notification[] = [];
    const via = await connectAs(proxy.url, `/mcp/${serverId}`, user, {
      setup(client) {
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void notes.push(n));
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void notes.push(n));
      },
    });
    const other = await connectAs(proxy.url, `/mcp/${serverId}`, user);
    try {
      const uri = 'demo://resource/static/document/features.md';
      await via.client.setLoggingLevel('debug');
      await via.client.subscribeResource({ uri });
      await via.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      await via.client.callTool({ name: 'toggle-simulated-logging', arguments: {} });
      await waitFor(() => notes.some((n) => n.method === 'notifications/resources/updated'));
      await waitFor(() => notes.some((n) => n.method === 'notifications/message'));
      expect(notes.find((n) => n.method === 'notifications/resources/updated')?.params).toEqual({ uri });
      expect(notes.find((n) => n.method === 'notifications/message')?.params).toMatchObject({ level: expect.any(String), data: expect.any(String) });
      // Another session of the same user and server shares the pooled connection, not this state.
      expect((await other.client.listTools()).tools.length).toBeGreaterThan(0);

      // The server restarts: the session's own connection is made again with its subscription and level.
      await everything.kill();
      await everything.restart();
      notes.length = 0;
      await via.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
      await waitFor(() => notes.some((n) => n.method === 'notifications/resources/updated'));
      await via.client.unsubscribeResource({ uri });
    } finally {
      await via.client.callTool({ name: 'toggle-subscriber-updates', arguments: {} }).catch(() => undefined);
      await via.client.callTool({ name: 'toggle-simulated-logging', arguments: {} }).catch(() => undefined);
      await via.close();
      await other.close();
    }
  });

  it('/mcp aggregates resources, templates and prompts: URIs and names carry their server and route back to it', async () => {
    const { serverId, user } = await grantedServer();
    const all = await connectAs(proxy.url, '/mcp', user);
    const own = await direct();
    try {
      const { resources } = await all.client.listResources();
      const ownResources = (await own.client.listResources()).resources;
      expect(resources.map((r) => r.uri)).toEqual(ownResources.map((r) => `mcpgw://${serverId}/${r.uri}`));
      const wrapped = resources[0]!;
      const read = await all.client.readResource({ uri: wrapped.uri });
      const ownRead = await own.client.readResource({ uri: ownResources[0]!.uri });
      expect(read.contents.map((c) => ({ ...c, uri: c.uri.replace(`mcpgw://${serverId}/`, '') }))).toEqual(ownRead.contents);
      expect(read.contents[0]!.uri).toBe(wrapped.uri);

      const { resourceTemplates } = await all.client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toContain(`mcpgw://${serverId}/demo://resource/dynamic/text/{resourceId}`);
      const dynamic = await all.client.readResource({ uri: `mcpgw://${serverId}/demo://resource/dynamic/text/9` });
      expect(dynamic.contents[0]).toMatchObject({ uri: `mcpgw://${serverId}/demo://resource/dynamic/text/9`, text: expect.stringContaining('Resource 9') });
      const completed = await all.client.complete({
        ref: { type: 'ref/resource', uri: `mcpgw://${serverId}/demo://resource/dynamic/text/{resourceId}` },
        argument: { name: 'resourceId', value: '4' },
      });
      expect(completed.completion.values).toEqual(['4']);

      const { prompts } = await all.client.listPrompts();
      expect(prompts.map((p) => p.name)).toContain(`${serverId}__args-prompt`);
      const prompt = await all.client.getPrompt({ name: `${serverId}__args-prompt`, arguments: { city: 'Oslo' } });
      expect(JSON.stringify(prompt.messages)).toContain('Oslo');
      const withResource = await all.client.getPrompt({ name: `${serverId}__resource-prompt`, arguments: { resourceType: 'Text', resourceId: '1' } });
      const embedded = withResource.messages.find((m) => m.content.type === 'resource');
      expect(embedded?.content).toMatchObject({ resource: { uri: `mcpgw://${serverId}/demo://resource/dynamic/text/1` } });
      const byName = await all.client.complete({ ref: { type: 'ref/prompt', name: `${serverId}__completable-prompt` }, argument: { name: 'department', value: 'Eng' } });
      expect(byName.completion.values).toEqual(['Engineering']);

      // A resource link in a tool result reads back on /mcp.
      const links = await all.client.callTool({ name: `${serverId}__get-resource-links`, arguments: { count: 1 } });
      const link = (links.content as { type: string; uri?: string }[]).find((c) => c.type === 'resource_link');
      expect(link?.uri?.startsWith(`mcpgw://${serverId}/`)).toBe(true);
      expect((await all.client.readResource({ uri: link!.uri! })).contents).toHaveLength(1);

      // URIs that name no server of the caller's are not found, whatever they are.
      await expect(all.client.readResource({ uri: ownResources[0]!.uri })).rejects.toThrow(/Resource not found/);
      await expect(all.client.readResource({ uri: `mcpgw://${uniqueId('nosuch')}/x` })).rejects.toThrow(/Resource not found/);
    } finally {
      await all.close();
      await own.close();
    }
  });
});
