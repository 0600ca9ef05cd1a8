import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { AppError } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { upstreamFor, type Upstream } from '../domain/routing.js';

export interface ProxyTargets {
  'mcp-proxy': string;
  'admin-portal': string;
  openwebui?: string | undefined;
}

/**
 * One proxy per upstream, sharing a keep-alive agent (without one, a busy proxy leaves tens of
 * thousands of sockets in TIME_WAIT). Bodies stream through unparsed; SSE responses stream as they
 * come. A failed upstream connection becomes a 502 in the caller's format.
 */
export function createProxyHandler(targets: ProxyTargets, onError: ErrorRequestHandler, logger: Logger): { handler: RequestHandler; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, timeout: 60_000 });
  const proxies = new Map<Upstream, RequestHandler>();
  for (const upstream of ['mcp-proxy', 'admin-portal', 'openwebui'] as const) {
    const target = targets[upstream];
    if (!target) continue;
    proxies.set(
      upstream,
      createProxyMiddleware<Request, Response>({
        target,
        agent,
        xfwd: true,
        on: {
          error: (err, req, res) => {
            logger.warn('upstream unreachable', { upstream, requestId: req.requestId, err: (err as Error).message });
            if ('writeHead' in res) {
              onError(new AppError('UPSTREAM_UNAVAILABLE', `${upstream} is unavailable`, { cause: err }), req, res as Response, () => undefined);
            } else {
              (res as Socket).destroy();
            }
          },
        },
      }) as RequestHandler,
    );
  }
  return {
    handler: (req: Request, res: Response, next: NextFunction) => {
      const upstream = upstreamFor(req.path);
      const proxy = proxies.get(upstream);
      if (!proxy) {
        next(new AppError('NOT_FOUND', `No route for ${req.path}`));
        return;
      }
      void proxy(req, res, next);
    },
    close: () => agent.destroy(),
  };
}
