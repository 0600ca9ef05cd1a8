import express, { type Request, type Response, type Router } from 'express';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { isInitializeRequest, type InitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { HEADER, type Identity } from '@mcpgw/identity';
import { AppError, identityOf } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import type { CatalogService } from '../domain/catalog.service.js';
import { scopeKey, type Caller, type Scope } from '../domain/caller.js';
import type { ToolService } from '../domain/tool.service.js';
import { callerAuthInfo } from '../mcp/caller-auth.js';
import { setInternalHeaders } from '../mcp/internal-headers.js';
import { ALL_CAPABILITIES, createMcpServer, MCPGW_INFO, mirroredFace, type ServerFace } from '../mcp/mcp-server.factory.js';
import type { SessionHub } from '../mcp/session-hub.js';
import { SessionLink, type SessionLinkDeps, type SessionLinkState } from '../mcp/session-link.js';
import { lookupSession, scopeOf } from '../middleware/session-lookup.middleware.js';
import type { McpSession, SessionConnector, SessionStore } from '../sessions/session-store.js';

/** What a session carries besides its transport: its MCP server and its side of the relay. */
export interface SessionAttachment {
  server: Server;
  link: SessionLink;
  close(): Promise<void>;
}

export interface McpRouteDeps {
  sessions: SessionStore<SessionAttachment>;
  tools: ToolService;
  catalog: CatalogService;
  hub: SessionHub;
  upstreams: SessionLinkDeps['upstreams'];
  logger: Logger;
}

const PATHS = ['/mcp', '/mcp/:server'] as const;

/** What a session's record keeps for this endpoint: where it was opened and how it introduced itself. */
interface SessionContext {
  scope: Scope;
  face: ServerFace;
}

/**
 * POST/GET/DELETE /mcp (every server the caller may use, aggregated) and /mcp/:server (one server,
 * names unchanged), Streamable HTTP as the SDK's transport implements it. Steps 5 and 6 of the
 * request flow: session lookup bound to the identity, then MCP handling.
 */
export function registerMcpRoutes(router: Router, deps: McpRouteDeps): void {
  const parseJson = express.json({ limit: '4mb' });

  const relay = async (req: Request, res: Response, session: McpSession<SessionAttachment>) => {
    const caller: Caller = { identity: identityOf(req), requestId: req.requestId };
    await session.handle(Object.assign(req, { auth: callerAuthInfo(caller) }), res, req.body);
  };

  /** /mcp/{server} introduces itself as its server does; /mcp (or a server that cannot be asked now) as mcpgw. */
  async function faceFor(scope: Scope, caller: Caller): Promise<ServerFace> {
    const everything: ServerFace = { serverInfo: MCPGW_INFO, capabilities: ALL_CAPABILITIES };
    if (scope.kind === 'all') return everything;
    try {
      const described = await deps.catalog.describe(scope.serverId, caller);
      return described ? mirroredFace(described) : everything;
    } catch (err) {
      deps.logger.info('server could not be asked at initialize; offering every capability', { requestId: caller.requestId, serverId: scope.serverId, err: (err as Error).message });
      return everything;
    }
  }

  /**
   * Attaches a session's MCP server and relay to its transport: for a session opened now, and for
   * one another replica opened (taken over from its record). `identity` is the caller of the
   * request at hand (the session's owner).
   */
  const connectAs =
    (identity: Identity): SessionConnector<SessionAttachment> =>
    async (transport, session) => {
      const { scope, face } = session.record.context as SessionContext;
      const link = new SessionLink(
        scope,
        identity,
        session.record.initialize.capabilities,
        { upstreams: deps.upstreams, logger: deps.logger },
        { state: session.record.state as SessionLinkState, save: (state) => session.saveState({ ...state }) },
      );
      const server = createMcpServer(scope, face, link, deps);
      await server.connect(transport);
      deps.hub.add(link);
      let closed: Promise<void> | undefined;
      return {
        server,
        link,
        close() {
          closed ??= (async () => {
            deps.hub.remove(link);
            await server.close().catch(() => undefined);
            await link.close();
          })();
          return closed;
        },
      };
    };

  async function open(req: Request, scope: Scope): Promise<McpSession<SessionAttachment>> {
    const identity = identityOf(req);
    const caller: Caller = { identity, requestId: req.requestId };
    // Unknown, disabled and forbidden servers get the same answer: no oracle.
    if (scope.kind === 'server' && !(await deps.tools.mayOpen(scope.serverId, caller))) throw new AppError('NOT_FOUND', 'Unknown server');
    const params = (req.body as InitializeRequest).params;
    // Asked over the pooled connection: a session's own connections open with its first request,
    // when the caller is ready to answer what the server may then send it (roots/list, say).
    const face = await faceFor(scope, caller);
    const context: SessionContext = { scope, face };
    const tag = req.headers[HEADER.mcpgwInstance];
    return deps.sessions.open(
      { owner: { userId: identity.userId, scope: scopeKey(scope) }, initialize: params, context, ...(typeof tag === 'string' ? { instanceTag: tag } : {}) },
      connectAs(identity),
    );
  }

  const post = async (req: Request, res: Response) => {
    const scope = scopeOf(req);
    let session = req.mcpSession as McpSession<SessionAttachment> | undefined;
    if (!session) {
      if (!isInitializeRequest(req.body)) throw new AppError('BAD_REQUEST', 'No session: send initialize first, then the Mcp-Session-Id it returns');
      session = await open(req, scope);
    } else {
      session.attached.link.identity = identityOf(req);
    }
    setInternalHeaders(res, scope, req.body);
    await relay(req, res, session);
  };

  const bySession = async (req: Request, res: Response) => {
    if (!req.mcpSession) throw new AppError('INTERNAL', 'session lookup missing');
    await relay(req, res, req.mcpSession as McpSession<SessionAttachment>);
  };

  const connect = (req: Request) => connectAs(identityOf(req));
  for (const path of PATHS) {
    router.post(path, lookupSession(deps.sessions, { required: false, connect }), parseJson, post);
    router.get(path, lookupSession(deps.sessions, { required: true, connect }), bySession);
    router.delete(path, lookupSession(deps.sessions, { required: true, connect }), bySession);
  }
}
