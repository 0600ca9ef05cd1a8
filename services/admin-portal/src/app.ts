import express, { type Request } from 'express';
import { AppError, assignRequestId, handleErrors, requireGatewayIdentity, type ErrorFormat } from '@mcpgw/http';
import { registerMetricsRoute } from '@mcpgw/metrics';
import type { AdminPortalDeps } from './deps.js';
import { requireAdmin } from './middleware/require-admin.middleware.js';
import { registerBlockRoutes } from './routes/blocks.routes.js';
import { registerHomeRoutes } from './routes/home.routes.js';
import { registerMeRoutes } from './routes/me.routes.js';
import { registerRateLimitRoutes } from './routes/rate-limits.routes.js';
import { registerSecurityEventRoutes } from './routes/security-events.routes.js';
import { registerServerRoutes } from './routes/servers.routes.js';
import { registerApiKeyRoutes } from './routes/api-keys.routes.js';
import { registerIdpMappingRoutes } from './routes/idp-mappings.routes.js';
import { registerM2mClientRoutes } from './routes/m2m-clients.routes.js';
import { registerSigningKeyRoutes } from './routes/signing-keys.routes.js';
import { registerUserRoutes } from './routes/users.routes.js';

function errorFormat(req: Request): ErrorFormat {
  return req.path.startsWith('/mcp-admin/api') ? 'problem' : 'html';
}

/**
 * The admin portal's request flow:
 *  1. request id
 *  2. /health (no identity, for probes); request metrics and GET /metrics (metrics bearer token)
 *  3. verify the gateway's signature (403 and a security event otherwise)
 *  4. /mcp-admin/api/me for any signed-in caller
 *  5. admins only from here on (403 otherwise)
 *  6. pages and API routes
 *  7. one error middleware (problem+json for the API, an HTML page for pages)
 */
export function createAdminPortalApp(deps: AdminPortalDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(assignRequestId());
  app.use(deps.metrics.observe);
  registerMetricsRoute(app, deps.metrics.registry, deps.config.metricsToken);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: 'admin-portal' });
  });
  app.use((_req, res, next) => {
    res.setHeader('content-security-policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  });
  app.use(requireGatewayIdentity({ secrets: deps.config.signingSecrets, maxAgeMs: deps.config.signatureMaxAgeMs, security: deps.security }));
  const open = express.Router();
  registerMeRoutes(open);
  app.use(open);
  app.use(requireAdmin(deps.security));
  const admin = express.Router();
  registerHomeRoutes(admin, deps.repos.servers);
  registerServerRoutes(admin, deps.repos.servers);
  registerUserRoutes(admin, { db: deps.db, repos: deps.repos });
  registerApiKeyRoutes(admin, { db: deps.db, repos: deps.repos });
  registerM2mClientRoutes(admin, { db: deps.db, repos: deps.repos });
  registerIdpMappingRoutes(admin, { db: deps.db, repos: deps.repos });
  registerSigningKeyRoutes(admin, { db: deps.db, repos: deps.repos });
  registerRateLimitRoutes(admin, { rules: deps.repos.rateLimitRules, audit: deps.repos.audit });
  registerBlockRoutes(admin, { blocks: deps.repos.accessBlocks, audit: deps.repos.audit });
  registerSecurityEventRoutes(admin, { events: deps.repos.securityEvents });
  app.use(admin);
  app.use((req, _res, next) => {
    next(new AppError('NOT_FOUND', `No such page: ${req.path}`));
  });
  app.use(handleErrors(deps.logger, errorFormat, { security: deps.security }));
  return app;
}
