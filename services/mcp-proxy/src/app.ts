import express, { type Request } from 'express';
import { AppError, assignRequestId, handleErrors, requireGatewayIdentity, type ErrorFormat } from '@mcpgw/http';
import type { McpProxyDeps } from './deps.js';
import { requireAllowedOrigin } from './middleware/allowed-origin.middleware.js';
import { refuseNewStreamsWhileDraining } from './middleware/draining.middleware.js';
import { registerHealthRoutes } from './routes/health.routes.js';
import { registerMcpRoutes } from './routes/mcp.routes.js';
import { registerServerRoutes } from './routes/servers.routes.js';

const isMcpPath = (req: Request) => req.path === '/mcp' || req.path.startsWith('/mcp/');

/** MCP callers get JSON-RPC errors; anything else problem details. */
const errorFormat = (req: Request): ErrorFormat => (isMcpPath(req) ? 'json-rpc' : 'problem');

/**
 * The mcp-proxy express app, in request-flow order (README.md lists the same steps). No listen, no
 * environment: everything comes in `deps`.
 */
export function createMcpProxyApp(deps: McpProxyDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // 1. request id (the gateway's, when short and safe)
  app.use(assignRequestId());
  // while draining (rolling restart), new GET streams go to another replica
  app.use(refuseNewStreamsWhileDraining(deps.lifecycle));
  // request metrics, malformed JSON-RPC events, and GET /metrics (bearer token; limits/traffic.ts)
  deps.traffic.mount(app);
  // 2. /health: public, no identity
  registerHealthRoutes(app, { ping: () => deps.db.ping(), sessions: deps.sessions, upstreams: deps.upstreams, lifecycle: deps.lifecycle });
  // 3. a valid, fresh gateway signature over the identity headers, on every other route
  app.use(requireGatewayIdentity({ ...deps.gatewayIdentity, security: deps.security }));
  // 4. Origin check (DNS rebinding)
  app.use(requireAllowedOrigin(deps.allowedOrigins));
  // 5. session lookup bound to the identity, and 6. MCP handling
  registerMcpRoutes(app, deps);
  // 7. the OpenAPI tool server (GET /servers, GET /servers/:server/openapi.json, POST /servers/:server/:tool)
  registerServerRoutes(app, deps);
  app.use((req) => {
    throw new AppError('NOT_FOUND', `No route for ${req.method} ${req.path}`);
  });
  // 8. the one error middleware
  app.use(handleErrors(deps.logger, errorFormat, { security: deps.security }));
  return app;
}
