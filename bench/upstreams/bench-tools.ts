import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/** Results of a fixed size, built once: the upstream's cost stays flat so the proxy's shows. */
const blobs = new Map<number, string>();
const blob = (bytes: number) => {
  let text = blobs.get(bytes);
  if (!text) blobs.set(bytes, (text = 'x'.repeat(bytes)));
  return text;
};

/**
 * The bench's tools, registered the usual SDK way: echo (the small call), blob (a result of
 * `bytes` characters: 16 KiB, 256 KiB) and stream (notifications on the call's SSE stream before
 * the result).
 */
export function registerBenchTools(server: McpServer): void {
  server.registerTool('echo', { description: 'Returns the text it is given.', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  server.registerTool(
    'blob',
    { description: 'Returns a text result of the given size.', inputSchema: { bytes: z.number().int().min(1).max(4_194_304) } },
    async ({ bytes }) => ({ content: [{ type: 'text', text: blob(bytes) }] }),
  );
  server.registerTool(
    'stream',
    { description: 'Sends `events` log notifications on the call stream, then the result.', inputSchema: { events: z.number().int().min(1).max(100) } },
    async ({ events }, extra) => {
      for (let i = 0; i < events; i++) {
        await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: `event ${i} ${blob(64)}` } });
      }
      return { content: [{ type: 'text', text: `sent ${events} events` }] };
    },
  );
}
