import path from 'node:path';
import { freePort, gatewayHeaders, testIdentity } from '@mcpgw/test-support';
import { MCP_HEADERS, openSession } from '../lib/mcp.js';
import { start, stop, waitHealthy } from '../lib/processes.js';
import type { Family } from '../lib/scenario.js';
import { STDIO_SERVER, url, type Bench } from '../lib/stack.js';
import { PAYLOADS } from './baselines.js';
import type { sharedChain } from './chain-stack.js';

const RATE = 100;
const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * One stdio MCP server (bench/upstreams/stdio-server.ts) served over Streamable HTTP by mcp-proxy
 * (called as the gateway calls it: signed identity headers) and by the npm package mcp-proxy
 * (punkpeye's), tools/call echo on one session each.
 */
export function stdio(bench: () => Bench, stack: ReturnType<typeof sharedChain>): Family {
  return {
    name: 'stdio',
    names: [
      { name: 'stdio-npm', baseline: 'stdio-npm' },
      { name: 'stdio-mcpgw', baseline: 'stdio-npm' },
    ],
    async start() {
      const b = bench();
      const c = await stack.get();
      const port = await freePort();
      const npm = start('npm mcp-proxy', process.execPath, [
        path.join(ROOT, 'node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs'),
        '--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--no-eventStore',
        '--', STDIO_SERVER.command, ...STDIO_SERVER.args,
      ]);
      try {
        await waitHealthy(npm, `${url(port)}/ping`);
        const npmSession = await openSession(`${url(port)}/mcp`, {});
        const identity = testIdentity({ groups: [b.data.group] });
        const mcpPath = '/mcp/stdio';
        const signed = (method: string) => gatewayHeaders(b.data.signingSecret, method, mcpPath, identity);
        const ourSession = await openSession(`${c.proxy.url}${mcpPath}`, signed);
        return {
          scenarios: [
            {
              name: 'stdio-npm',
              baseline: 'stdio-npm',
              description: 'npm mcp-proxy (punkpeye) → stdio server, tools/call echo',
              processes: [npm],
              rate: RATE,
              request: async () => ({ url: `${url(port)}/mcp`, method: 'POST', headers: { ...MCP_HEADERS, ...npmSession }, body: PAYLOADS.call }),
            },
            {
              name: 'stdio-mcpgw',
              baseline: 'stdio-npm',
              description: 'mcp-proxy (signed headers, as from the gateway) → stdio server, tools/call echo',
              processes: [c.proxy.proc],
              rate: RATE,
              // Signed afresh for each load: a signature is valid for SIGNATURE_MAX_AGE_SECONDS.
              request: async () => ({ url: `${c.proxy.url}${mcpPath}`, method: 'POST', headers: { ...MCP_HEADERS, ...signed('POST'), ...ourSession }, body: PAYLOADS.call }),
            },
          ],
          stop: () => stop(npm),
        };
      } catch (err) {
        await stop(npm);
        throw err;
      }
    },
  };
}
