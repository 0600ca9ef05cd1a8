import { Agent } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { AppError } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { upstreamFor } from '../domain/routing.js';
import { createUpstreamForwarder, type Forwarder } from './upstream-forwarder.js';

export interface ProxyTargets {
  /** mcp-proxy instances (MCP_PROXY_URL, one or more). */
  'mcp-proxy': readonly string[];
  /** admin-portal instances (ADMIN_PORTAL_URL, one or more). */
  'admin-portal': readonly string[];
  openwebui?: string | undefined;
}

export interface ProxyHandler {
  /** mcp-proxy and the admin portal: the last step of the proxied list (the identity is signed by then). */
  forward: RequestHandler;
  /** Open WebUI (any other path), or 404 when OPENWEBUI_URL is not set; never mcp-proxy or the admin portal. */
  openwebui: RequestHandler;
  /** Ends the GET streams (SSE) through this process: the first step of a graceful stop. */
  endStreams(): number;
  close(): void;
}

/**
 * Step 9 of the request flow. mcp-proxy and the admin portal through the upstream forwarder (one or
 * more instances, session affinity, failover of requests that surely never ran:
 * upstream-forwarder.ts); Open WebUI through http-proxy-middleware with a keep-alive agent (without
 * one, a busy proxy leaves tens of thousands of sockets in TIME_WAIT). Responses, SSE included,
 * stream as they come. A failed upstream becomes a 502 in the caller's format.
 */
export function createProxyHandler(targets: ProxyTargets, onError: ErrorRequestHandler, logger: Logger, options: { maxBodyBytes: number }): ProxyHandler {
  const forwarders = new Map<'mcp-proxy' | 'admin-portal', Forwarder>();
  for (const upstream of ['mcp-proxy', 'admin-portal'] as const) {
    forwarders.set(upstream, createUpstreamForwarder({ name: upstream, urls: targets[upstream], maxBodyBytes: options.maxBodyBytes, logger }));
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, timeout: 60_000 });
  const openwebuiProxy = targets.openwebui
    ? (createProxyMiddleware<Request, Response>({
        target: targets.openwebui,
        agent,
        xfwd: true,
        on: {
          error: (err, req, res) => {
            logger.warn('upstream unreachable', { upstream: 'openwebui', requestId: req.requestId, err: (err as Error).message });
            if ('writeHead' in res) {
              onError(new AppError('UPSTREAM_UNAVAILABLE', 'openwebui is unavailable', { cause: err }), req, res as Response, () => undefined);
            } else {
              (res as Socket).destroy();
            }
          },
        },
      }) as RequestHandler)
    : undefined;
  return {
    forward: (req: Request, res: Response, next: NextFunction) => {
      const upstream = upstreamFor(req.path);
      if (upstream === 'openwebui') {
        next(new AppError('NOT_FOUND', `No route for ${req.path}`));
        return;
      }
      forwarders.get(upstream)!.handle(req, res, next);
    },
    openwebui: (req: Request, res: Response, next: NextFunction) => {
      if (!openwebuiProxy || upstreamFor(req.path) !== 'openwebui') {
        next(new AppError('NOT_FOUND', `No route for ${req.path}`));
        return;
      }
      void openwebuiProxy(req, res, next);
    },
    endStreams: () => [...forwarders.values()].reduce((n, f) => n + f.endStreams(), 0),
    close: () => {
      agent.destroy();
      for (const f of forwarders.values()) f.close();
    },
  };
}
