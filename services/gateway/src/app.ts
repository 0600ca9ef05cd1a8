import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { assignRequestId, expressHttpClasses, handleErrors, type HttpClasses } from '@mcpgw/http';
import { registerMetricsRoute } from '@mcpgw/metrics';
import { redisHealth } from '@mcpgw/rate-limit';
import type { GatewayDeps } from './deps.js';
import { errorFormatFor } from './domain/error-format.js';
import { isGatewayAdminPath, isGatewayCallerPath, requiresIdentity, upstreamFor } from './domain/routing.js';
import { runPipeline } from './request-pipeline.js';
import { adoptExpress } from './adopt-express.js';
import { recordRequests } from './middleware/analytics.middleware.js';
import { refuseBlocked } from './middleware/block.middleware.js';
import { takeMcpFacts } from './middleware/mcp-facts.middleware.js';
import { authenticate } from './middleware/authenticate.middleware.js';
import { dropCredentials } from './middleware/drop-credentials.middleware.js';
import { discardRestOfBody, limitBody } from './middleware/limit-body.middleware.js';
import { enforceRateLimit } from './middleware/rate-limit.middleware.js';
import { requireIdentity } from './middleware/require-identity.middleware.js';
import { injectIdentityHeaders } from './middleware/sign-identity.middleware.js';
import { stripIdentityHeaders } from './middleware/strip-identity-headers.middleware.js';
import { createProxyHandler } from './routes/proxy.routes.js';
import { registerHealthRoutes } from './routes/health.routes.js';
import { registerStatsRoutes } from './routes/stats.routes.js';
import { registerAuthRoutes } from './routes/auth.routes.js';
import { registerAuthSessionRoutes } from './routes/auth-session.routes.js';
import { registerOAuthRoutes } from './routes/oauth.routes.js';
import { registerWellKnownRoutes } from './routes/well-known.routes.js';

/** Applies `middleware` only to the gateway's own routes that need an identity (/gateway/stats, /auth/me, /auth/logout). */
function forGatewayCallers(middleware: (req: Request, res: Response, next: NextFunction) => unknown) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (isGatewayAdminPath(req.path) || isGatewayCallerPath(req.path)) return middleware(req, res, next);
    next();
  };
}

/**
 * The gateway's request flow, in order:
 *  1. request id (an inbound one only if short and safe)
 *  2. strip every inbound identity header
 *     request metrics from here on; /gateway/health, /gateway/ready, /metrics (bearer token)
 *     then mcp-proxy's x-mcpgw-* response headers taken off, and one analytics row per request
 *  3. gateway's own routes (/gateway/health; sign-in: /auth/{login,refresh,me,logout,setup},
 *     /oauth/token; discovery: /.well-known/{oauth-protected-resource[/mcp…],oauth-authorization-server,jwks.json})
 *  4. body size check on proxied paths
 *  5. authenticate (mcpgw_ key, Entra / Open WebUI / gateway JWT, sk- key → identity, or the reason there is none)
 *     refuse blocked users and API keys (403)
 *  6. rate limit (per user, or per client IP without identity; per tenant where a rule says so)
 *  7. require an identity for /mcp, /servers, /mcp-admin (401 + WWW-Authenticate with resource_metadata, 403, 503)
 *     /gateway/stats (admins)
 *  8. drop the caller's credential, inject signed identity headers
 *  9. proxy to mcp-proxy, admin-portal or Open WebUI
 * 10. one error middleware (JSON-RPC for MCP, problem+json for REST, HTML for pages)
 *
 * Proxied paths (/mcp, /servers, /mcp-admin), nearly all the traffic, run steps 1, 2, 4 to 9 as one
 * fixed list without express's router (request-pipeline.ts), and mcp-proxy's x-mcpgw-* headers are
 * taken off by the forwarder itself; express serves the rest (steps 3, 9 for Open WebUI, and
 * /gateway/stats, /auth/me, /auth/logout after steps 5 to 7).
 */
export function createGatewayApp(deps: GatewayDeps): {
  /** The request listener of the gateway's HTTP server. */
  app: (req: IncomingMessage, res: ServerResponse) => void;
  /** The classes the server should build requests from (listen's httpClasses): see @mcpgw/http express-http-classes.ts. */
  httpClasses: HttpClasses;
  close(): void;
  /** A graceful stop begins: health endpoints answer 503 draining, GET streams end (returns how many). */
  startDraining(): number;
} {
  let draining = false;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  const httpClasses = expressHttpClasses(app);
  const onError = handleErrors(deps.logger, errorFormatFor, { security: deps.security });
  const proxy = createProxyHandler(deps.config.targets, onError, deps.logger, { maxBodyBytes: deps.config.maxBodyBytes });
  const analytics = deps.traffic.analytics ? recordRequests(deps.traffic.analytics) : null;
  const tenant = { rules: deps.traffic.tenantRules, limiters: deps.traffic.tenantLimiters };
  const identity = {
    authenticate: authenticate(deps.auth.caller),
    refuseBlocked: refuseBlocked({ blocks: deps.traffic.blocks, security: deps.security }),
    rateLimit: deps.config.rateLimitEnabled ? enforceRateLimit({ user: deps.userLimiter, ip: deps.ipLimiter, tenant, security: deps.security }) : null,
    require: requireIdentity({ security: deps.security, resourceMetadataUrl: deps.auth.discovery.resourceMetadataUrl }),
  };
  const sign = injectIdentityHeaders(deps.config.signingSecret);
  // A refusal (401, 413, 429 …) may come before the caller has sent its whole body: the connection
  // closes after the answer, and what is still coming is read and thrown away first, so the caller
  // reads the answer rather than a reset (limit-body.middleware.ts).
  const refuse: ErrorRequestHandler = (err, req, res, next) => {
    if (!req.complete && !res.headersSent) {
      res.setHeader('connection', 'close');
      discardRestOfBody(req);
    }
    onError(err, req, res, next);
  };

  // Proxied paths (/mcp, /servers, /mcp-admin): steps 1, 2, 4 to 9 as one fixed list.
  const proxied: RequestHandler[] = [
    assignRequestId(),
    stripIdentityHeaders(),
    deps.traffic.observeRequests,
    ...(analytics ? [analytics] : []),
    limitBody(deps.config.maxBodyBytes),
    identity.authenticate,
    identity.refuseBlocked,
    ...(identity.rateLimit ? [identity.rateLimit] : []),
    identity.require,
    dropCredentials(),
    sign,
    proxy.forward,
  ];

  // Everything else: the gateway's own routes and Open WebUI, through express.
  app.use(assignRequestId());
  app.use(stripIdentityHeaders());
  app.use(deps.traffic.observeRequests);
  const ops = express.Router();
  const redis = deps.redis;
  registerHealthRoutes(
    ops,
    { rateLimitStore: deps.userLimiter.store, redisReady: redis ? () => redis.status === 'ready' && !redisHealth(redis).down : null, draining: () => draining },
    { database: () => deps.db.ping(), redis: redis ? async () => (await redis.ping()) === 'PONG' : null },
  );
  registerMetricsRoute(ops, deps.traffic.registry, deps.config.metricsToken);
  app.use(ops);
  app.use(takeMcpFacts());
  if (analytics) app.use(analytics);
  const router = express.Router();
  registerWellKnownRoutes(router, { discovery: deps.auth.discovery, keys: deps.auth.keys });
  registerAuthRoutes(router, { accounts: deps.auth.accounts });
  registerOAuthRoutes(router, { clientCredentials: deps.auth.clientCredentials });
  app.use(router);
  app.use(limitBody(deps.config.maxBodyBytes));
  app.use(forGatewayCallers(identity.authenticate));
  app.use(forGatewayCallers(identity.refuseBlocked));
  if (identity.rateLimit) app.use(forGatewayCallers(identity.rateLimit));
  app.use(forGatewayCallers(identity.require));
  const admin = express.Router();
  registerStatsRoutes(admin, { traffic: deps.traffic, rateLimitEnabled: deps.config.rateLimitEnabled, retentionDays: deps.config.analyticsRetentionDays });
  registerAuthSessionRoutes(admin, { accounts: deps.auth.accounts });
  app.use(admin);
  app.use(sign);
  app.use(proxy.openwebui);
  app.use(onError);

  return {
    app(req, res) {
      // Express's request and response prototypes first: the path is then read exactly as express
      // reads it (an absolute-form request target included), so no request can reach an
      // identity-requiring upstream except through the list above.
      const request = adoptExpress(app, httpClasses, req, res);
      if (requiresIdentity(upstreamFor(request.path))) runPipeline(proxied, refuse, request, request.res!);
      else app(req, res);
    },
    httpClasses,
    close: proxy.close,
    startDraining() {
      draining = true;
      return proxy.endStreams();
    },
  };
}
