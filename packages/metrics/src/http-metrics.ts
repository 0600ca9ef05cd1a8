import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Counts every request and observes its duration by method, route and status when the response
 * finishes (or the caller goes away: status 499). `routeOf` must return a small fixed set of
 * names (a route pattern, never a raw path), so the series stay few.
 */
export function observeHttpRequests(registry: Registry, routeOf: (req: Request) => string) {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route and status.', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to the end of the response, by method, route and status.',
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      const labels = { method: req.method, route: routeOf(req), status: String(aborted && !res.headersSent ? 499 : res.statusCode) };
      requests.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(true));
    next();
  };
}

/** A route label from express's matched route, else a fallback (for app.use handlers). */
export function matchedRoute(req: Request, fallback = 'other'): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : fallback;
}
