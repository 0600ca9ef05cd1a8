import { LIST_BODY, MCP_HEADERS, openSession } from '../lib/mcp.js';
import type { Family, Scenario } from '../lib/scenario.js';
import { LIST_SIZES } from '../lib/setup.js';
import type { Bench } from '../lib/stack.js';
import { PAYLOADS, RATES } from './baselines.js';
import type { sharedChain } from './chain-stack.js';

const LIST_RATE = 100;

/**
 * The full chain (gateway → mcp-proxy → SDK upstream): tools/call with small, 16 KiB, 256 KiB and
 * SSE-streamed results; aggregated tools/list over 1, 5, 20 and 50 upstream servers on an open
 * session (warm: pooled upstream connections) and on a new session each time (cold: initialize,
 * list, DELETE); whole cold sessions against the same on the SDK server directly.
 */
export function chain(bench: () => Bench, stack: ReturnType<typeof sharedChain>): Family {
  const calls = [
    ['chain-call', 'direct-sdk', 'call'],
    ['chain-16k', 'direct-sdk-16k', '16k'],
    ['chain-256k', 'direct-sdk-256k', '256k'],
    ['chain-sse', 'direct-sdk-sse', 'sse'],
  ] as const;
  return {
    name: 'chain',
    names: [
      ...calls.map(([name, baseline]) => ({ name, baseline })),
      ...LIST_SIZES.map((n) => ({ name: `list-${n}-warm`, baseline: 'list-1-warm' })),
      ...LIST_SIZES.map((n) => ({ name: `list-${n}-cold`, baseline: 'list-1-cold' })),
      { name: 'chain-session-cold', baseline: 'direct-sdk-session' },
    ],
    async start() {
      const b = bench();
      const c = await stack.get();
      const procs = [c.gateway.proc, c.proxy.proc, b.sdk.proc];
      const auth = (key: string) => ({ authorization: `Bearer ${key}` });
      const benchUrl = `${c.gateway.url}/mcp/bench`;
      const session = await openSession(benchUrl, auth(b.data.key));
      const scenarios: Scenario[] = calls.map(([name, baseline, payload]) => ({
        name,
        baseline,
        description: `gateway → mcp-proxy → SDK server: ${name === 'chain-call' ? 'tools/call echo' : name === 'chain-sse' ? 'tools/call streaming 10 notifications (SSE)' : `tools/call with a ${payload.toUpperCase().replace('K', ' KiB')} result`}`,
        processes: procs,
        rate: RATES[payload],
        request: async () => ({ url: benchUrl, method: 'POST', headers: { ...MCP_HEADERS, ...auth(b.data.key), ...session }, body: PAYLOADS[payload] }),
      }));
      for (const n of LIST_SIZES) {
        const key = b.data.listKeys[n]!;
        const listSession = await openSession(`${c.gateway.url}/mcp`, auth(key));
        scenarios.push({
          name: `list-${n}-warm`,
          baseline: 'list-1-warm',
          description: `tools/list on /mcp aggregated over ${n} upstream server${n > 1 ? 's' : ''}, open session`,
          processes: procs,
          rate: LIST_RATE,
          request: async () => ({ url: `${c.gateway.url}/mcp`, method: 'POST', headers: { ...MCP_HEADERS, ...auth(key), ...listSession }, body: LIST_BODY }),
        });
      }
      for (const n of LIST_SIZES) {
        scenarios.push({
          name: `list-${n}-cold`,
          baseline: 'list-1-cold',
          description: `new session each time on /mcp over ${n} server${n > 1 ? 's' : ''}: initialize, tools/list, DELETE (sessions/s)`,
          processes: procs,
          sessions: { url: `${c.gateway.url}/mcp`, headers: auth(b.data.listKeys[n]!), steps: ['list'] },
          maxReps: 2,
        });
      }
      scenarios.push({
        name: 'chain-session-cold',
        baseline: 'direct-sdk-session',
        description: 'whole sessions through the chain: initialize, tools/list, tools/call, DELETE (sessions/s)',
        processes: procs,
        sessions: { url: benchUrl, headers: auth(b.data.key), steps: ['list', 'call'] },
        maxReps: 2,
      });
      return { scenarios, stop: async () => {} };
    },
  };
}
