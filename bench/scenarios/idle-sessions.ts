import { gatewayHeaders, testIdentity } from '@mcpgw/test-support';
import { memory, stop } from '../lib/processes.js';
import type { Family } from '../lib/scenario.js';
import { openSessions } from '../lib/session-driver.js';
import type { Bench } from '../lib/stack.js';

/**
 * 10,000 MCP sessions opened on a fresh mcp-proxy (initialize + initialized, as the gateway sends
 * them) and held open idle: RSS before and after, per session. Sessions of 100 users, as a busy
 * deployment would have them.
 */
export function idleSessions(bench: () => Bench, total: number): Family {
  return {
    name: 'idle-sessions',
    names: [],
    async start() {
      const b = bench();
      const proxy = await b.service('mcp-proxy (idle sessions)', 'services/mcp-proxy/src/main.ts', { MCP_SESSIONS_PER_USER: '100000' }, (p) => `http://127.0.0.1:${p}/health`);
      return {
        scenarios: [],
        probes: [
          {
            name: 'idle-sessions',
            description: `${total} idle MCP sessions held open in one mcp-proxy`,
            async run() {
              const users = Array.from({ length: 100 }, () => testIdentity({ groups: [b.data.group] }));
              const signed = (i: number) => (method: string) => gatewayHeaders(b.data.signingSecret, method, '/mcp/bench', users[i % users.length]!);
              await openSessions(`${proxy.url}/mcp/bench`, signed, 20, 4); // the upstream connection and JIT, not counted
              await new Promise((r) => setTimeout(r, 500));
              const before = memory(proxy.proc).rssMb;
              const started = Date.now();
              const opened = await openSessions(`${proxy.url}/mcp/bench`, signed, total, 16);
              const seconds = (Date.now() - started) / 1000;
              await new Promise((r) => setTimeout(r, 1000));
              const after = memory(proxy.proc).rssMb;
              return {
                sessions: total,
                opened: opened.ids.length,
                errors: Object.entries(opened.statuses).filter(([k]) => !/^2\d\d$/.test(k)).map(([k, v]) => `${k}: ${v}`).join(', ') || '0',
                openedPerSecond: Math.round(opened.ids.length / seconds),
                rssBeforeMb: before,
                rssMb: after,
                kbPerSession: ((after - before) * 1024) / Math.max(1, opened.ids.length),
              };
            },
          },
        ],
        stop: () => stop(proxy.proc),
      };
    },
  };
}
