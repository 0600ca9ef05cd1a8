import express, { type Request, type Response, type Router } from 'express';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { AppError, identityOf } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { scopeKey, type Caller } from '../domain/caller.js';
import type { ToolService } from '../domain/tool.service.js';
import { callerAuthInfo } from '../mcp/caller-auth.js';
import { setInternalHeaders } from '../mcp/internal-headers.js';
import { createMcpServer } from '../mcp/mcp-server.factory.js';
import { lookupSession, scopeOf } from '../middleware/session-lookup.middleware.js';
import type { McpSession, SessionStore } from '../sessions/session-store.js';

export interface McpRouteDeps {
  sessions: SessionStore;
  tools: ToolService;
  logger: Logger;
}

const PATHS = ['/mcp', '/mcp/:server'] as const;

/**
 * POST/GET/DELETE /mcp (every server the caller may use, aggregated) and /mcp/:server (one server,
 * tool names unchanged), Streamable HTTP as the SDK's transport implements it. Steps 5 and 6 of
 * the request flow: session lookup bound to the identity, then MCP handling.
 */
export function registerMcpRoutes(router: Router, deps: McpRouteDeps): void {
  const parseJson = express.json({ limit: '4mb' });

  const relay = async (req: Request, res: Response, session: McpSession) => {
    const caller: Caller = { identity: identityOf(req), requestId: req.requestId };
    await session.handle(Object.assign(req, { auth: callerAuthInfo(caller) }), res, req.body);
  };

  const post = async (req: Request, res: Response) => {
    const scope = scopeOf(req);
    let session = req.mcpSession;
    if (!session) {
      if (!isInitializeRequest(req.body)) throw new AppError('BAD_REQUEST', 'No session: send initialize first, then the Mcp-Session-Id it returns');
      const identity = identityOf(req);
      // Unknown, disabled and forbidden servers get the same answer: no oracle.
      if (scope.kind === 'server' && !(await deps.tools.mayOpen(scope.serverId, { identity, requestId: req.requestId }))) {
        throw new AppError('NOT_FOUND', 'Unknown server');
      }
      session = await deps.sessions.open({ userId: identity.userId, scope: scopeKey(scope) }, async (transport) => {
        const server = createMcpServer(scope, deps);
        await server.connect(transport);
        return server;
      });
    }
    setInternalHeaders(res, scope, req.body);
    await relay(req, res, session);
  };

  const bySession = async (req: Request, res: Response) => {
    if (!req.mcpSession) throw new AppError('INTERNAL', 'session lookup missing');
    await relay(req, res, req.mcpSession);
  };

  for (const path of PATHS) {
    router.post(path, lookupSession(deps.sessions, { required: false }), parseJson, post);
    router.get(path, lookupSession(deps.sessions, { required: true }), bySession);
    router.delete(path, lookupSession(deps.sessions, { required: true }), bySession);
  }
}
