import type { Router } from 'express';
import type { Lifecycle } from '../middleware/draining.middleware.js';

export interface HealthDeps {
  ping(): Promise<boolean>;
  sessions: { size(): number; shared: boolean };
  upstreams: { size(): number };
  lifecycle: Lifecycle;
}

/**
 * GET /health: public (no identity), for probes. 503 when the database does not answer, and while
 * this replica drains (a rolling restart: balancers stop sending it new work).
 */
export function registerHealthRoutes(router: Router, deps: HealthDeps): void {
  router.get('/health', async (_req, res) => {
    const database = await deps.ping();
    const status = deps.lifecycle.draining ? 'draining' : database ? 'ok' : 'degraded';
    res.status(status === 'ok' ? 200 : 503).json({
      status,
      service: 'mcp-proxy',
      checks: { database: database ? 'ok' : 'down' },
      sessions: deps.sessions.size(),
      sessionStore: deps.sessions.shared ? 'shared' : 'local',
      upstreamConnections: deps.upstreams.size(),
    });
  });
}
