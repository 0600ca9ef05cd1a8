import type { Router } from 'express';

/**
 * [method, path, summary, tag] of every admin API route; the OpenAPI document is built from this
 * table, and test/security/admin-api.int.test.ts checks it against the routes the app really has
 * and runs its BOLA/BFLA checks over it, so a new route without a row fails that test.
 */
const ROUTES: readonly [string, string, string, string][] = [
  ['get', '/me', 'Who the caller is (any signed-in user)', 'Me'],
  ['get', '/csrf', 'A CSRF token for cookie-session writes', 'Me'],
  ['get', '/openapi.json', 'This document', 'Me'],
  ['get', '/users', 'List users (query, source, limit, offset)', 'Users'],
  ['post', '/users', 'Create a local account (email, name, groups, admin, password)', 'Users'],
  ['get', '/users/{id}', 'A user with groups and key count', 'Users'],
  ['patch', '/users/{id}', 'Change a user (enabled, name, description, admin)', 'Users'],
  ['delete', '/users/{id}', 'Delete a user', 'Users'],
  ['put', '/users/{id}/mcp-access', "Set a user's server allow/block lists", 'Users'],
  ['put', '/users/{id}/password', "Set a local account's password", 'Users'],
  ['get', '/users/{id}/keys', "List a user's API keys (never the key)", 'API keys'],
  ['post', '/users/{id}/keys', 'Issue an mcpgw_ API key (shown once; ttl_days)', 'API keys'],
  ['delete', '/keys/{id}', 'Revoke an API key by id', 'API keys'],
  ['post', '/keys/revoke', 'Revoke an API key by the key itself', 'API keys'],
  ['get', '/groups', 'List groups (query, limit, offset)', 'Groups'],
  ['post', '/groups', 'Create a group (name, description, tenant, admin, entraGroupIds)', 'Groups'],
  ['post', '/groups/import', "Create or replace a group from the registry guide's JSON", 'Groups'],
  ['get', '/groups/{id}', 'A group with grants and identity-provider mappings', 'Groups'],
  ['get', '/groups/{id}/export', "A group in the registry guide's JSON", 'Groups'],
  ['patch', '/groups/{id}', 'Change a group', 'Groups'],
  ['delete', '/groups/{id}', 'Delete a group', 'Groups'],
  ['get', '/groups/{id}/members', 'A page of members', 'Groups'],
  ['post', '/groups/{id}/members', 'Add a member (userId or email)', 'Groups'],
  ['delete', '/groups/{id}/members/{userId}', 'Remove a member', 'Groups'],
  ['post', '/group-members/bulk', 'Add (or remove) members in bulk from CSV "email,group"', 'Groups'],
  ['put', '/groups/{id}/grants/{serverId}', 'Grant a server with every tool ["*"] or chosen tools', 'Groups'],
  ['delete', '/groups/{id}/grants/{serverId}', 'Remove a grant', 'Groups'],
  ['get', '/servers', 'List upstream servers with their last test result', 'Servers'],
  ['post', '/servers', 'Register an upstream server', 'Servers'],
  ['get', '/servers/{id}', 'One upstream server', 'Servers'],
  ['patch', '/servers/{id}', 'Change, enable or disable a server', 'Servers'],
  ['delete', '/servers/{id}', 'Remove a server', 'Servers'],
  ['post', '/servers/{id}/test', 'Test connection: tools or the exact error (tenant=…)', 'Servers'],
  ['get', '/servers/{id}/tools', 'The live tool list of a server', 'Servers'],
  ['get', '/tenants', 'List tenants', 'Tenants'],
  ['post', '/tenants', 'Create a tenant', 'Tenants'],
  ['get', '/tenant-keys', 'Tenant keys: last 4 and update time only', 'Tenants'],
  ['put', '/tenant-keys/{tenant}/{server}', 'Set or replace a tenant key (write-only)', 'Tenants'],
  ['delete', '/tenant-keys/{tenant}/{server}', 'Delete a tenant key', 'Tenants'],
  ['get', '/tenant-endpoints', 'Tenant endpoints (dynamic routing)', 'Tenants'],
  ['put', '/tenant-endpoints/{tenant}/{server}', 'Set a tenant endpoint', 'Tenants'],
  ['delete', '/tenant-endpoints/{tenant}/{server}', 'Remove a tenant endpoint', 'Tenants'],
  ['get', '/m2m-clients', 'List M2M clients', 'M2M clients'],
  ['post', '/m2m-clients', 'Create an M2M client (secret shown once)', 'M2M clients'],
  ['get', '/m2m-clients/{clientId}', 'One M2M client (never its secret)', 'M2M clients'],
  ['post', '/m2m-clients/{clientId}/secret', 'Rotate an M2M client secret (shown once)', 'M2M clients'],
  ['delete', '/m2m-clients/{clientId}', 'Delete an M2M client and its machine user', 'M2M clients'],
  ['get', '/signing-keys', "The gateway's token-signing keys (public data)", 'Identity providers'],
  ['post', '/signing-keys/rotate', 'Retire the current signing key', 'Identity providers'],
  ['get', '/idp-mappings', 'Entra group / app-role to group mappings', 'Identity providers'],
  ['post', '/idp-mappings', 'Add a mapping', 'Identity providers'],
  ['delete', '/idp-mappings/{id}', 'Remove a mapping', 'Identity providers'],
  ['get', '/rate-limit-rules', 'Rate-limit rules', 'Traffic'],
  ['post', '/rate-limit-rules', 'Add a per-tenant or per-tool rate-limit rule', 'Traffic'],
  ['patch', '/rate-limit-rules/{id}', 'Change a rate-limit rule', 'Traffic'],
  ['delete', '/rate-limit-rules/{id}', 'Remove a rate-limit rule', 'Traffic'],
  ['get', '/blocks', 'Access blocks', 'Traffic'],
  ['post', '/blocks', 'Block a user or an API key', 'Traffic'],
  ['delete', '/blocks/{id}', 'Lift a block', 'Traffic'],
  ['get', '/security-events', 'Security events (since, until, user, kind, ip, before, limit)', 'Activity'],
  ['get', '/analytics/summary', 'Requests per minute, p50/p95, errors, top tools and users (since, until, server, tenant)', 'Activity'],
  ['get', '/activity', 'Newest MCP calls after an id (live activity, for polling)', 'Activity'],
  ['post', '/tool-tester/call', 'Call a tool through the gateway as yourself or a chosen user (when the tool tester is configured)', 'Tool tester'],
  ['get', '/audit', 'Audit log (actor, action, targetType, targetId, since, until, before, limit)', 'Activity'],
];

/** Credential-minting writes, limited per admin (ADMIN_SENSITIVE_WRITES_PER_MINUTE). */
const SENSITIVE = new Set(['post /users/{id}/keys', 'post /m2m-clients', 'post /m2m-clients/{clientId}/secret', 'put /tenant-keys/{tenant}/{server}']);

const problem = { description: 'Problem details (RFC 9457)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } };

export function openApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [method, path, summary, tag] of ROUTES) {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    (paths[`/mcp-admin/api${path}`] ??= {})[method] = {
      summary,
      tags: [tag],
      ...(params.length ? { parameters: params } : {}),
      ...(['post', 'put', 'patch'].includes(method) ? { requestBody: { content: { 'application/json': { schema: { type: 'object' } } } } } : {}),
      responses: { '200': { description: 'OK' }, '400': problem, '403': problem, '404': problem, ...(SENSITIVE.has(`${method} ${path}`) ? { '429': problem } : {}) },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mcpgw admin API',
      version: '1',
      description:
        'Admins only. A tenant admin (all of whose admin groups belong to a tenant) sees and changes only its tenants; servers, tenants, signing keys, identity-provider mappings, rate-limit rules and security events are for global admins. Writes by browser sessions need X-CSRF-Token; API-key and M2M callers do not.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { apiKey: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
      schemas: {
        Problem: {
          type: 'object',
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, code: { type: 'string' }, requestId: { type: 'string' } },
        },
      },
    },
    paths,
  };
}

/** GET /mcp-admin/api/openapi.json. */
export function registerOpenApiRoutes(router: Router): void {
  const doc = openApiDocument();
  router.get('/mcp-admin/api/openapi.json', (_req, res) => {
    res.json(doc);
  });
}
