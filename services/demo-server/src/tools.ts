import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/** Harmless tools for trying mcpgw: they read nothing and change nothing. */
export function registerDemoTools(server: McpServer): void {
  server.registerTool(
    'get_current_time',
    {
      title: 'Current time',
      description: 'The current date and time, in ISO 8601 and in the given IANA time zone.',
      inputSchema: { timezone: z.string().optional().describe('IANA time zone, e.g. Europe/Berlin (default UTC)') },
    },
    async ({ timezone }) => {
      const zone = timezone ?? 'UTC';
      let local: string;
      try {
        local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'full', timeStyle: 'long' }).format(new Date());
      } catch {
        return { isError: true, content: [{ type: 'text', text: `Unknown time zone: ${zone}` }] };
      }
      return { content: [{ type: 'text', text: `${new Date().toISOString()} (${zone}: ${local})` }] };
    },
  );

  server.registerTool(
    'echo',
    {
      title: 'Echo',
      description: 'Returns the text it is given.',
      inputSchema: { text: z.string().max(10_000).describe('Text to echo back') },
    },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );

  server.registerTool(
    'add',
    {
      title: 'Add',
      description: 'Adds two numbers.',
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => ({
      content: [{ type: 'text', text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );
}
