import { stop } from '../lib/processes.js';
import type { Bench } from '../lib/stack.js';

export interface ChainStack {
  gateway: Awaited<ReturnType<Bench['service']>>;
  proxy: Awaited<ReturnType<Bench['service']>>;
  stop(): Promise<void>;
}

/**
 * The full chain as deployed: gateway (API keys, Redis limit) → mcp-proxy → upstreams. Analytics
 * off here, like the edge target's gateway; edge-apikey-redis-analytics measures what it costs.
 */
export async function startChain(b: Bench): Promise<ChainStack> {
  const health = (path: string) => (p: number) => `http://127.0.0.1:${p}${path}`;
  const proxy = await b.service('mcp-proxy', 'services/mcp-proxy/src/main.ts', { MCP_SESSIONS_PER_USER: '100000' }, health('/health'));
  try {
    const gateway = await b.service(
      'gateway (chain)',
      'services/gateway/src/main.ts',
      { MCP_PROXY_URL: proxy.url, REDIS_URL: b.redisUrl, ENABLE_API_ANALYTICS: 'false' },
      health('/gateway/health'),
    );
    return {
      gateway,
      proxy,
      async stop() {
        await stop(gateway.proc);
        await stop(proxy.proc);
      },
    };
  } catch (err) {
    await stop(proxy.proc);
    throw err;
  }
}

/** One chain per run, started by the first family that needs it. */
export function sharedChain(bench: () => Bench): { get(): Promise<ChainStack>; stop(): Promise<void> } {
  let chain: Promise<ChainStack> | null = null;
  return {
    get: () => (chain ??= startChain(bench())),
    async stop() {
      if (chain) await (await chain.catch(() => null))?.stop();
      chain = null;
    },
  };
}
