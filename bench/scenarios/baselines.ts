import { callBody, MCP_HEADERS, openSession } from '../lib/mcp.js';
import type { Family } from '../lib/scenario.js';
import type { Bench } from '../lib/stack.js';

/** Sizes and shapes of the full-chain results, shared with chain.ts so both sides send the same. */
export const PAYLOADS = {
  call: callBody('echo', { text: 'hello' }),
  '16k': callBody('blob', { bytes: 16_384 }),
  '256k': callBody('blob', { bytes: 262_144 }),
  sse: callBody('stream', { events: 10 }),
} as const;

export const RATES = { echo: 500, call: 200, '16k': 200, '256k': 50, sse: 200 } as const;

/**
 * The baselines: the raw JSON-RPC echo and the SDK server called directly, and Caddy's plain
 * reverse_proxy in front of the echo.
 */
export function baselines(bench: () => Bench): Family {
  return {
    name: 'baselines',
    names: [
      { name: 'direct-echo', baseline: 'direct-echo' },
      { name: 'caddy-echo', baseline: 'direct-echo' },
      { name: 'direct-sdk', baseline: 'direct-sdk' },
      { name: 'direct-sdk-16k', baseline: 'direct-sdk-16k' },
      { name: 'direct-sdk-256k', baseline: 'direct-sdk-256k' },
      { name: 'direct-sdk-sse', baseline: 'direct-sdk-sse' },
      { name: 'direct-sdk-session', baseline: 'direct-sdk-session' },
    ],
    async start() {
      const b = bench();
      const sdkMcp = `${b.sdk.url}/mcp`;
      const session = await openSession(sdkMcp, {});
      const sdk = (name: string, body: string, rate: number, what: string) => ({
        name,
        baseline: name,
        description: `SDK Streamable HTTP server called directly: ${what}`,
        processes: [b.sdk.proc],
        rate,
        request: async () => ({ url: sdkMcp, method: 'POST' as const, headers: { ...MCP_HEADERS, ...session }, body }),
      });
      return {
        scenarios: [
          {
            name: 'direct-echo',
            baseline: 'direct-echo',
            description: 'raw JSON-RPC echo called directly',
            processes: [b.echo.proc],
            rate: RATES.echo,
            request: async () => ({ url: `${b.echo.url}/mcp`, method: 'POST', headers: { ...MCP_HEADERS }, body: PAYLOADS.call }),
          },
          {
            name: 'caddy-echo',
            baseline: 'direct-echo',
            description: "Caddy's plain reverse_proxy → echo",
            processes: [b.caddy.proc, b.echo.proc],
            rate: RATES.echo,
            request: async () => ({ url: `${b.caddy.url}/mcp`, method: 'POST', headers: { ...MCP_HEADERS }, body: PAYLOADS.call }),
          },
          sdk('direct-sdk', PAYLOADS.call, RATES.call, 'tools/call echo'),
          sdk('direct-sdk-16k', PAYLOADS['16k'], RATES['16k'], 'tools/call with a 16 KiB result'),
          sdk('direct-sdk-256k', PAYLOADS['256k'], RATES['256k'], 'tools/call with a 256 KiB result'),
          sdk('direct-sdk-sse', PAYLOADS.sse, RATES.sse, 'tools/call streaming 10 notifications then the result (SSE)'),
          {
            name: 'direct-sdk-session',
            baseline: 'direct-sdk-session',
            description: 'SDK server directly, whole sessions: initialize, tools/list, tools/call, DELETE (sessions/s)',
            processes: [b.sdk.proc],
            sessions: { url: sdkMcp, headers: {}, steps: ['list', 'call'] },
            maxReps: 2,
          },
        ],
        async stop() {},
      };
    },
  };
}
