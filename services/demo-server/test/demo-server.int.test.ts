import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { listen, type ListeningServer } from '@mcpgw/http';
import { silentLogger } from '@mcpgw/test-support';
import { createDemoServerApp, type DemoServerApp } from '@mcpgw/demo-server';

describe('demo MCP server', () => {
  let demo: DemoServerApp;
  let server: ListeningServer;
  beforeAll(async () => {
    demo = createDemoServerApp(silentLogger());
    server = await listen(demo.app, { host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await demo.close();
    await server.close(100);
  });

  it('serves its tools to the official SDK client over Streamable HTTP and ends the session on close', async () => {
    const client = new Client({ name: 'test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`));
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'get_current_time']);
    expect(await client.callTool({ name: 'echo', arguments: { text: 'héllo' } })).toMatchObject({ content: [{ type: 'text', text: 'héllo' }] });
    expect(await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).toMatchObject({ structuredContent: { sum: 42 } });
    const time = await client.callTool({ name: 'get_current_time', arguments: { timezone: 'Nowhere/Atlantis' } });
    expect(time.isError).toBe(true);
    expect(demo.sessionCount()).toBe(1);
    await transport.terminateSession();
    await client.close();
    expect(demo.sessionCount()).toBe(0);
  });
});
