import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { createFixtures, createOpenWebUiFixture, startTestIssuer, uniqueId, type Fixtures, type OpenWebUiFixture, type TestIssuer } from '@mcpgw/test-support';
import { startInProcessStack, type InProcessStack } from './support/in-process-stack.js';
import { describeAuthSuite, type AuthSuiteTarget } from './support/auth-suite.js';
import { entraMethod, localMethod, m2mMethod, openWebUiMethod, type MethodContext } from './support/auth-methods.js';

/**
 * The shared authentication suite, per auth method (API key, Entra, Open WebUI, local accounts,
 * M2M), against every protected route of the gateway, on the whole chain in this process: gateway
 * → mcp-proxy / admin portal, with a local Entra test issuer (real RSA keys, JWKS over HTTP) and
 * a fixture of Open WebUI's tables.
 */
let stack: InProcessStack;
let fx: Fixtures;
let idp: TestIssuer;
let owui: OpenWebUiFixture;
let demoId: string;
const allowedApp = randomUUID();

beforeAll(async () => {
  idp = await startTestIssuer();
  stack = await startInProcessStack(async (t) => {
    owui = await createOpenWebUiFixture(t.url);
    return {
      IDENTITY_CACHE_SECONDS: '0',
      RATE_LIMIT_PER_IP: '100000',
      RATE_LIMIT_PER_MINUTE: '100000',
      LOGIN_ATTEMPTS_PER_IP: '100000',
      ENTRA_TENANT_IDS: idp.tenantId,
      ENTRA_AUDIENCES: idp.audience,
      ENTRA_JWKS_URI: idp.jwksUri,
      ENTRA_ALLOWED_CLIENT_APP_IDS: allowedApp,
      OPENWEBUI_SECRET_KEY: owui.secret,
      OPENWEBUI_DATABASE_URL: t.url,
      OPENWEBUI_DB_SCHEMA: owui.schema,
      OPENWEBUI_API_KEYS_ENABLED: 'true',
    };
  });
  fx = createFixtures(stack.t.repos);
  demoId = uniqueId('demo');
  await stack.t.repos.servers.create({ id: demoId, name: 'Demo', transport: 'streamable-http', url: stack.demoUrl });
});
afterAll(async () => {
  await stack?.close();
  await owui?.cleanup();
  await idp?.close();
});

const context = (): MethodContext => ({
  gatewayUrl: stack.gatewayUrl,
  publicUrl: 'http://127.0.0.1:8085',
  repos: stack.t.repos,
  masterKeys: stack.masterKeys,
  idp,
  owui,
  allowedApp,
});
const methods = [entraMethod(context), openWebUiMethod(context), localMethod(context), m2mMethod(context)];

const common = (): Pick<AuthSuiteTarget, 'fixtures' | 'securityEvents'> => ({
  fixtures: () => fx,
  securityEvents: (requestId) => stack.t.repos.securityEvents.list({ requestId }),
});
const mcpTarget = (path: string) => (): AuthSuiteTarget => ({
  ...common(),
  reachedUpstream: (id) => stack.reachedUpstream(id),
  send: (headers, query = '') =>
    fetch(`${stack.gatewayUrl}${path.replace('{demo}', demoId)}${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    }),
});
const restTarget = (path: string, options: { echoesIdentity?: boolean; adminOnly?: boolean } = {}) => (): AuthSuiteTarget => ({
  ...common(),
  reachedUpstream: (id) => stack.reachedUpstream(id),
  ...options,
  send: (headers, query = '') => fetch(`${stack.gatewayUrl}${path}${query}`, { headers }),
});
/** Served by the gateway itself: nothing is proxied either way. */
const gatewayTarget = (path: string, method = 'GET') => (): AuthSuiteTarget => ({
  ...common(),
  echoesIdentity: method === 'GET',
  send: (headers, query = '') => fetch(`${stack.gatewayUrl}${path}${query}`, { method, headers }),
});

describeAuthSuite('POST /mcp', mcpTarget('/mcp'), methods);
describeAuthSuite('POST /mcp/{server}', mcpTarget('/mcp/{demo}'), methods);
describeAuthSuite('GET /mcp-admin/api/me', restTarget('/mcp-admin/api/me', { echoesIdentity: true }), methods);
describeAuthSuite('GET /mcp-admin/', restTarget('/mcp-admin/', { adminOnly: true }), methods);
describeAuthSuite('GET /auth/me', gatewayTarget('/auth/me'), methods);
