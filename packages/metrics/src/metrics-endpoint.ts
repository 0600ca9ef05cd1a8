import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response, Router } from 'express';
import type { Registry } from 'prom-client';
import { AppError } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * GET /metrics in the Prometheus text format, for a caller presenting `Authorization: Bearer
 * <token>` only. Without a configured token the route does not exist (404): metrics are never
 * public. The comparison takes the same time whatever the presented value.
 */
export function registerMetricsRoute(router: Pick<Router, 'get'>, registry: Registry, token: string | undefined, path = '/metrics'): void {
  const expected = token ? digest(token) : null;
  router.get(path, async (req: Request, res: Response, next: NextFunction) => {
    if (!expected) {
      next(new AppError('NOT_FOUND', `No route for ${req.path}`));
      return;
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers[HEADER.authorization] ?? '');
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      next(new AppError('UNAUTHENTICATED', 'Metrics need the metrics bearer token', { headers: { [HEADER.wwwAuthenticate]: 'Bearer realm="metrics"' } }));
      return;
    }
    res.setHeader('content-type', registry.contentType);
    res.setHeader('cache-control', 'no-store');
    res.end(await registry.metrics());
  });
}
