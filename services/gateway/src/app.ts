import express, { type NextFunction, type Request, type Response } from 'express';
import { assignRequestId, handleErrors } from '@mcpgw/http';
import type { GatewayDeps } from './deps.js';
import { errorFormatFor } from './domain/error-format.js';
import { requiresIdentity, upstreamFor } from './domain/routing.js';
import { authenticate } from './middleware/authenticate.middleware.js';
import { dropCredentials } from './middleware/drop-credentials.middleware.js';
import { limitBody } from './middleware/limit-body.middleware.js';
import { enforceRateLimit } from './middleware/rate-limit.middleware.js';
import { requireIdentity } from './middleware/require-identity.middleware.js';
import { injectIdentityHeaders } from './middleware/sign-identity.middleware.js';
import { stripIdentityHeaders } from './middleware/strip-identity-headers.middleware.js';
import { createProxyHandler } from './routes/proxy.routes.js';
import { registerHealthRoutes } from './routes/health.routes.js';

/** Applies `middleware` only to requests bound for an upstream that needs an identity. */
function forProtected(middleware: (req: Request, res: Response, next: NextFunction) => unknown) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (requiresIdentity(upstreamFor(req.path))) return middleware(req, res, next);
    next();
  };
}

/**
 * The gateway's request flow, in order:
 *  1. request id (an inbound one only if short and safe)
 *  2. strip every inbound identity header
 *  3. gateway's own routes (/gateway/health)
 *  4. body size check on proxied paths
 *  5. authenticate (API key → identity, or the reason there is none)
 *  6. rate limit (per user, or per client IP without identity)
 *  7. require an identity for /mcp, /servers, /mcp-admin (401 + WWW-Authenticate)
 *  8. drop the caller's credential, inject signed identity headers
 *  9. proxy to mcp-proxy, admin-portal or Open WebUI
 * 10. one error middleware (JSON-RPC for MCP, problem+json for REST, HTML for pages)
 */
export function createGatewayApp(deps: GatewayDeps): { app: express.Express; close(): void } {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  const onError = handleErrors(deps.logger, errorFormatFor);
  const proxy = createProxyHandler(deps.config.targets, onError, deps.logger);

  app.use(assignRequestId());
  app.use(stripIdentityHeaders());
  const router = express.Router();
  registerHealthRoutes(router, { rateLimitStore: deps.userLimiter.store });
  app.use(router);
  app.use(limitBody(deps.config.maxBodyBytes));
  app.use(forProtected(authenticate(deps.apiKeys)));
  if (deps.config.rateLimitEnabled) {
    app.use(forProtected(enforceRateLimit({ user: deps.userLimiter, ip: deps.ipLimiter, security: deps.security })));
  }
  app.use(forProtected(requireIdentity(deps.security)));
  app.use(forProtected(dropCredentials()));
  app.use(injectIdentityHeaders(deps.config.signingSecret));
  app.use(proxy.handler);
  app.use(onError);
  return { app, close: proxy.close };
}
