import type { NextFunction, Request, Response } from 'express';
import { HEADER } from '@mcpgw/identity';
import { AppError, identityOf } from '@mcpgw/http';
import { scopeKey, type Scope } from '../domain/caller.js';
import type { Closable, McpSession, SessionConnector, SessionStore } from '../sessions/session-store.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The MCP session named by Mcp-Session-Id, owned by this caller on this endpoint. */
      mcpSession?: McpSession;
    }
  }
}

/** The endpoint's scope from the route: /mcp/:server or /mcp. */
export function scopeOf(req: Request): Scope {
  const serverId = req.params.server;
  return typeof serverId === 'string' ? { kind: 'server', serverId } : { kind: 'all' };
}

/**
 * Finds the session a request names: one running in this process, or one another replica opened,
 * made again here from its record with `connect` (shared sessions). A session opened by another
 * identity, or on another endpoint, is answered exactly like an unknown one (404), so session ids
 * cannot be probed or borrowed. `required`: GET and DELETE need a session (400 without one); POST
 * may open one with initialize.
 */
export function lookupSession<T extends Closable>(
  store: SessionStore<T>,
  options: { required: boolean; connect: (req: Request) => SessionConnector<T> },
) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const id = req.headers[HEADER.mcpSessionId];
    if (id === undefined) {
      next(options.required ? new AppError('BAD_REQUEST', 'Mcp-Session-Id header is required') : undefined);
      return;
    }
    try {
      const owner = { userId: identityOf(req).userId, scope: scopeKey(scopeOf(req)) };
      const session = typeof id === 'string' ? await store.find(id, owner, options.connect(req)) : undefined;
      if (!session) {
        next(new AppError('NOT_FOUND', 'Session not found'));
        return;
      }
      req.mcpSession = session;
      next();
    } catch (err) {
      next(err);
    }
  };
}
