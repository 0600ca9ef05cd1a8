import type { NextFunction, Request, Response } from 'express';
import { HEADER } from '@mcpgw/identity';
import { AppError } from '@mcpgw/http';

/** Set by main.ts when a graceful stop begins (SIGTERM). */
export interface Lifecycle {
  draining: boolean;
}

/**
 * While this replica drains (rolling restart), a new GET stream of an MCP session would keep it
 * alive until the deadline: it is refused instead, before anything runs, with a 503 the gateway
 * recognises (`x-mcpgw-draining`) and retries on another replica, which takes the session over.
 * Everything else is still served (requests arriving on open connections; sessions are shared).
 */
export function refuseNewStreamsWhileDraining(lifecycle: Lifecycle) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (lifecycle.draining && req.method === 'GET' && (req.path === '/mcp' || req.path.startsWith('/mcp/'))) {
      next(
        new AppError('SERVICE_UNAVAILABLE', 'mcp-proxy is restarting: reconnect', {
          headers: { [HEADER.mcpgwDraining]: '1', connection: 'close', [HEADER.retryAfter]: '1' },
        }),
      );
      return;
    }
    next();
  };
}
