import { createOpenWebUiFixture, startTestIssuer } from '@mcpgw/test-support';
import { MCP_HEADERS } from '../lib/mcp.js';
import { stop } from '../lib/processes.js';
import type { Family, Scenario } from '../lib/scenario.js';
import type { Bench } from '../lib/stack.js';
import { PAYLOADS, RATES } from './baselines.js';

const EDGE = ['edge-apikey', 'edge-rs256', 'edge-rs256-nocache', 'edge-owui', 'edge-apikey-redis', 'edge-rs256-redis', 'edge-owui-redis', 'edge-apikey-redis-analytics'];

/**
 * The gateway alone in front of the echo (as its "mcp-proxy"): API key, Entra-style RS256 JWT
 * (verify cache on and off) and Open WebUI HS256 session, with in-process and Redis rate limits,
 * and with analytics on. Compared with Caddy; added latency against the echo called directly.
 */
export function edge(bench: () => Bench): Family {
  return {
    name: 'edge',
    names: EDGE.map((name) => ({ name, baseline: 'caddy-echo', origin: 'direct-echo' })),
    async start() {
      const b = bench();
      const issuer = await startTestIssuer();
      const owui = await createOpenWebUiFixture(b.data.databaseUrl);
      const started: Awaited<ReturnType<Bench['service']>>[] = [];
      try {
        const auth = {
          ENTRA_TENANT_IDS: issuer.tenantId,
          ENTRA_AUDIENCES: issuer.audience,
          ENTRA_AUTHORITY: issuer.authority,
          ENTRA_JWKS_URI: issuer.jwksUri,
          OPENWEBUI_SECRET_KEY: owui.secret,
          OPENWEBUI_DATABASE_URL: owui.url,
          OPENWEBUI_DB_SCHEMA: owui.schema,
          MCP_PROXY_URL: b.echo.url,
        };
        const gateway = async (name: string, env: Record<string, string>) => {
          const g = await b.service(name, 'services/gateway/src/main.ts', { ...auth, ...env }, (p) => `http://127.0.0.1:${p}/gateway/health`);
          started.push(g);
          return g;
        };
        const [plain, noCache, redis, analytics] = await Promise.all([
          gateway('gateway', { ENABLE_API_ANALYTICS: 'false' }),
          gateway('gateway (verify cache off)', { ENABLE_API_ANALYTICS: 'false', TOKEN_VERIFY_CACHE: 'false' }),
          gateway('gateway+redis', { ENABLE_API_ANALYTICS: 'false', REDIS_URL: b.redisUrl }),
          gateway('gateway+redis+analytics', { ENABLE_API_ANALYTICS: 'true', REDIS_URL: b.redisUrl }),
        ]);

        const owuiUser = await owui.addUser();
        const credentials = {
          apikey: b.data.key,
          rs256: await issuer.sign(issuer.userClaims()),
          owui: owui.session(owuiUser.id),
        };
        const scenario = (name: string, g: (typeof started)[number], credential: keyof typeof credentials, what: string): Scenario => ({
          name,
          baseline: 'caddy-echo',
          origin: 'direct-echo',
          description: `gateway (${what}) → echo`,
          processes: [g.proc, b.echo.proc],
          rate: RATES.echo,
          request: async () => ({ url: `${g.url}/mcp`, method: 'POST', headers: { ...MCP_HEADERS, authorization: `Bearer ${credentials[credential]}` }, body: PAYLOADS.call }),
        });
        return {
          scenarios: [
            scenario('edge-apikey', plain, 'apikey', 'API key, in-process limit, signed headers'),
            scenario('edge-rs256', plain, 'rs256', 'Entra RS256 JWT, verify cache on, in-process limit'),
            scenario('edge-rs256-nocache', noCache, 'rs256', 'Entra RS256 JWT, verify cache off, in-process limit'),
            scenario('edge-owui', plain, 'owui', 'Open WebUI HS256 session, in-process limit'),
            scenario('edge-apikey-redis', redis, 'apikey', 'API key, Redis limit, signed headers'),
            scenario('edge-rs256-redis', redis, 'rs256', 'Entra RS256 JWT, verify cache on, Redis limit'),
            scenario('edge-owui-redis', redis, 'owui', 'Open WebUI HS256 session, Redis limit'),
            scenario('edge-apikey-redis-analytics', analytics, 'apikey', 'API key, Redis limit, analytics on'),
          ],
          async stop() {
            for (const g of started) await stop(g.proc);
            await issuer.close();
            await owui.cleanup();
          },
        };
      } catch (err) {
        for (const g of started) await stop(g.proc);
        await issuer.close();
        await owui.cleanup();
        throw err;
      }
    },
  };
}
