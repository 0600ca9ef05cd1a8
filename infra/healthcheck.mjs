// Container health probe for every mcpgw service (used by the HEALTHCHECK of infra/Dockerfile).
// Usage: node infra/healthcheck.mjs [service]; the service defaults to $MCPGW_SERVICE.
// Exit 0 when the service's health path answers 2xx within the timeout, 1 otherwise.
// The port defaults mirror the services' config schemas; test/config-docs.test.ts keeps them equal.
import { pathToFileURL } from 'node:url';

/** Per service: the variable holding its port, that port's default, and its health path. */
export const healthTargets = {
  gateway: { portVariable: 'GATEWAY_PORT', defaultPort: 8085, path: '/gateway/health' },
  'mcp-proxy': { portVariable: 'MCP_PROXY_PORT', defaultPort: 8000, path: '/health' },
  'admin-portal': { portVariable: 'ADMIN_PORTAL_PORT', defaultPort: 8080, path: '/health' },
  'demo-server': { portVariable: 'DEMO_SERVER_PORT', defaultPort: 8090, path: '/health' },
};

/** The URL to probe for `service`, given an environment. */
export function healthUrl(service, environment) {
  const target = healthTargets[service];
  if (!target) throw new Error(`unknown service "${service}" (one of ${Object.keys(healthTargets).join(', ')})`);
  const configured = (environment[target.portVariable] ?? '').trim();
  const port = configured === '' ? target.defaultPort : Number(configured);
  return `http://127.0.0.1:${port}${target.path}`;
}

async function probe(service) {
  const url = healthUrl(service, process.env);
  const res = await fetch(url, { signal: AbortSignal.timeout(2_500) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const service = process.argv[2] ?? process.env.MCPGW_SERVICE ?? '';
  probe(service).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`unhealthy: ${err.message}\n`);
      process.exit(1);
    },
  );
}
