import type { Router } from 'express';

export interface HealthInfo {
  rateLimitStore: 'shared' | 'local';
}

/** GET /gateway/health: liveness, answered without touching any dependency. */
export function registerHealthRoutes(router: Router, info: HealthInfo): void {
  router.get('/gateway/health', (_req, res) => {
    res.json({ status: 'ok', service: 'gateway', rateLimitStore: info.rateLimitStore });
  });
}
