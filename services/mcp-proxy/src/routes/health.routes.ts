import type { Router } from 'express';

export interface HealthDeps {
  ping(): Promise<boolean>;
  sessions: { size(): number };
  upstreams: { size(): number };
}

/** GET /health: public (no identity), for probes. 503 when the database does not answer. */
export function registerHealthRoutes(router: Router, deps: HealthDeps): void {
  router.get('/health', async (_req, res) => {
    const database = await deps.ping();
    res.status(database ? 200 : 503).json({
      status: database ? 'ok' : 'degraded',
      service: 'mcp-proxy',
      checks: { database: database ? 'ok' : 'down' },
      sessions: deps.sessions.size(),
      upstreamConnections: deps.upstreams.size(),
    });
  });
}
