import express, { type Request } from 'express';
import { AppError, assignRequestId, handleErrors, identityOf, requireGatewayIdentity, type ErrorFormat } from '@mcpgw/http';
import { registerMetricsRoute } from '@mcpgw/metrics';
import type { AdminPortalDeps } from './deps.js';
import { requireAdmin, requireGlobalAdmin } from './middleware/require-admin.middleware.js';
import { limitSensitiveWrites, SENSITIVE_WRITES } from './middleware/limit-sensitive-writes.middleware.js';
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
import { registerGroupRoutes } from './routes/groups.routes.js';
import { registerTenantRoutes } from './routes/tenants.routes.js';
import { registerActivityRoutes } from './routes/activity.routes.js';
import { registerOpenApiRoutes } from './routes/openapi.routes.js';
import { registerToolTesterRoutes } from './routes/tool-tester.routes.js';
import { createCsrfTokens, requireCsrf } from './middleware/require-csrf.middleware.js';

/** The shared registry: one set for every tenant, so only global admins read or change it. */
const GLOBAL_ONLY = ['/mcp-admin/api/servers', '/mcp-admin/api/tenants', '/mcp-admin/api/signing-keys', '/mcp-admin/api/idp-mappings', '/mcp-admin/api/rate-limit-rules', '/mcp-admin/api/security-events'];

function errorFormat(req: Request): ErrorFormat {
  return req.path.startsWith('/mcp-admin/api') ? 'problem' : 'html';
}

/**
 * The admin portal's request flow:
 *  1. request id
 *  2. /health (no identity, for probes); request metrics and GET /metrics (metrics bearer token)
 *  3. verify the gateway's signature (403 and a security event otherwise)
 *  4. /mcp-admin/api/me for any signed-in caller
 *  5. admins only from here on (403 otherwise), each with its scope (global, or its tenants:
 *     domain/admin-scope.ts); writes by browser sessions need the CSRF token
 *  6. the shared registry for global admins only; credential-minting writes limited per admin
 *  7. pages (the shell and its static files) and API routes, each filtered by the admin's scope
 *  8. one error middleware (problem+json for the API, an HTML page for pages; a 500 says only
 *     "Internal error" and the request id)
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
    res.setHeader(
      'content-security-policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  });
  app.use(requireGatewayIdentity({ secrets: deps.config.signingSecrets, maxAgeMs: deps.config.signatureMaxAgeMs, security: deps.security }));
  const open = express.Router();
  registerMeRoutes(open);
  app.use(open);
  app.use(requireAdmin(deps.security, deps.repos.tenantScope));
  const csrf = createCsrfTokens(deps.config.signingSecrets[0]!);
  app.use(requireCsrf(csrf));
  app.use(GLOBAL_ONLY, requireGlobalAdmin(deps.security));
  const sensitive = limitSensitiveWrites(deps.config.sensitiveWritesPerMinute, deps.security);
  for (const [method, path] of SENSITIVE_WRITES) app[method](path, sensitive);
  const admin = express.Router();
  registerHomeRoutes(admin, csrf, { toolTester: deps.config.gatewayUrl !== undefined });
  admin.get('/mcp-admin/api/csrf', (req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.json({ token: csrf.issue(identityOf(req).userId) });
  });
  registerOpenApiRoutes(admin);
  registerServerRoutes(admin, { db: deps.db, repos: deps.repos, keyring: deps.keyring, logger: deps.logger, urlPolicy: deps.config.urlPolicy });
  registerGroupRoutes(admin, { db: deps.db, repos: deps.repos });
  registerTenantRoutes(admin, { db: deps.db, repos: deps.repos, keyring: deps.keyring, urlPolicy: deps.config.urlPolicy });
  registerActivityRoutes(admin, { repos: deps.repos });
  if (deps.config.gatewayUrl) registerToolTesterRoutes(admin, { db: deps.db, repos: deps.repos, gatewayUrl: deps.config.gatewayUrl });
  registerUserRoutes(admin, { db: deps.db, repos: deps.repos });
  registerApiKeyRoutes(admin, { db: deps.db, repos: deps.repos });
  registerM2mClientRoutes(admin, { db: deps.db, repos: deps.repos });
  registerIdpMappingRoutes(admin, { db: deps.db, repos: deps.repos });
  registerSigningKeyRoutes(admin, { db: deps.db, repos: deps.repos });
  registerRateLimitRoutes(admin, { rules: deps.repos.rateLimitRules, audit: deps.repos.audit });
  registerBlockRoutes(admin, { blocks: deps.repos.accessBlocks, audit: deps.repos.audit, tenantScope: deps.repos.tenantScope });
  registerSecurityEventRoutes(admin, { events: deps.repos.securityEvents });
  app.use(admin);
  app.use((req, _res, next) => {
    next(new AppError('NOT_FOUND', `No such page: ${req.path}`));
  });
  app.use(handleErrors(deps.logger, errorFormat, { security: deps.security }));
  return app;
}
