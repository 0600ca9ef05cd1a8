import type { Family } from '../lib/scenario.js';
import type { Bench } from '../lib/stack.js';
import type { sharedChain } from './chain-stack.js';

export const CROWD = 15_000;
const GROUPS = 300;
const RATE = 200;
const BODY = JSON.stringify({ text: 'hello' });

/**
 * 15,000 distinct users, each with its own API key and two of 300 groups (so thousands of
 * distinct group lists), called round-robin through the full chain on the stateless tool route
 * (POST /servers/bench/echo: no MCP session per user), against one user on the same route.
 */
export function users(bench: () => Bench, stack: ReturnType<typeof sharedChain>): Family {
  return {
    name: 'users',
    names: [
      { name: 'users-1', baseline: 'users-1' },
      { name: 'users-15k', baseline: 'users-1' },
    ],
    async start() {
      const b = bench();
      const c = await stack.get();
      const keys = await b.data.addUsers(CROWD, GROUPS);
      const target = `${c.gateway.url}/servers/bench/echo`;
      const headers = { 'content-type': 'application/json' };
      const procs = [c.gateway.proc, c.proxy.proc, b.sdk.proc];
      return {
        scenarios: [
          {
            name: 'users-1',
            baseline: 'users-1',
            description: 'one user: POST /servers/bench/echo through gateway → mcp-proxy → SDK server',
            processes: procs,
            rate: RATE,
            request: async () => ({ url: target, method: 'POST', headers: { ...headers, authorization: `Bearer ${b.data.key}` }, body: BODY }),
          },
          {
            name: 'users-15k',
            baseline: 'users-1',
            description: `${CROWD} users round-robin, own key each, 2 of ${GROUPS} groups: same route`,
            processes: procs,
            rate: RATE,
            request: async () => ({ url: target, method: 'POST', headers, body: BODY, rotate: { header: 'authorization', values: keys.map((k) => `Bearer ${k}`) } }),
          },
        ],
        stop: async () => {},
      };
    },
  };
}
