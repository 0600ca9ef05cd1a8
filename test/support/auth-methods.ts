import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { createKeyring, hashPassword, hashSecret, parseMasterKeys, randomSecret } from '@mcpgw/crypto';
import type { Repos } from '@mcpgw/db';
import type { OpenWebUiFixture, TestIssuer } from '@mcpgw/test-support';
import type { AuthMethodUnderTest, MethodCredential } from './auth-suite.js';

/** What the method fixtures need from the running stack. */
export interface MethodContext {
  gatewayUrl: string;
  /** GATEWAY_PUBLIC_URL: issuer and audience of the gateway's own tokens. */
  publicUrl: string;
  repos: Repos;
  masterKeys: string;
  idp: TestIssuer;
  owui: OpenWebUiFixture;
  /** Client app id allowed to send Entra app-only tokens. */
  allowedApp: string;
}

type Ctx = () => MethodContext;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const now = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const claimsOf = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());
const withoutUndefined = (c: Record<string, unknown>) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));

/** Asks the gateway who a credential is (GET /auth/me), so a test knows the user behind a JIT sign-in. */
async function userIdOf(ctx: MethodContext, headers: Record<string, string>): Promise<string> {
  const res = await fetch(`${ctx.gatewayUrl}/auth/me`, { headers });
  if (res.status !== 200) throw new Error(`valid credential refused by /auth/me: ${res.status}`);
  return ((await res.json()) as { userId: string }).userId;
}

const disabler = (ctx: MethodContext, userId: string) => () => ctx.repos.users.setEnabled(userId, false);

/** Microsoft Entra ID tokens from the local test issuer. */
export function entraMethod(ctx: Ctx): AuthMethodUnderTest {
  const idp = () => ctx().idp;
  const signed = async (claims: Record<string, unknown>, opts = {}) => bearer(await idp().sign(withoutUndefined(claims), opts));
  return {
    name: 'entra',
    async valid(): Promise<MethodCredential> {
      const headers = bearer(await idp().sign(idp().userClaims()));
      const userId = await userIdOf(ctx(), headers);
      return { headers, userId, disable: disabler(ctx(), userId) };
    },
    cases: {
      malformed: async () => bearer(`${b64({ alg: 'RS256', kid: idp().kid })}.bm90LWpzb24.c2lnbmF0dXJl`),
      expired: async () => signed(idp().userClaims({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })),
      'not yet valid': async () => signed(idp().userClaims({ nbf: now() + 600, exp: now() + 4200 })),
      'wrong audience': async () => signed(idp().userClaims({ aud: randomUUID() })),
      'wrong issuer': async () => {
        const tid = randomUUID();
        return signed(idp().userClaims({ tid, iss: `${idp().authority}/${tid}/v2.0` }));
      },
      'wrong signature': async () => signed(idp().userClaims(), { foreignKey: true }),
      'unsigned (alg none)': async () => bearer(idp().unsigned(idp().userClaims())),
      'HS256 signed with the RSA public key (alg confusion)': async () => bearer(idp().hmacWithPublicKey(idp().userClaims())),
      'disabled user': async (base) => base.headers,
    },
    extra: {
      'HS256 with a whitespace-prefixed PEM as the secret': { headers: async () => bearer(idp().hmacWithPublicKey(idp().userClaims(), { prefix: '\n  ' })) },
      'an unknown signing key (kid)': { headers: async () => signed(idp().userClaims(), { kid: randomUUID() }) },
      'no exp': { headers: async () => signed({ ...idp().userClaims(), exp: undefined }) },
      'an Open WebUI session token carrying an Entra issuer': {
        headers: async () => {
          const u = await ctx().owui.addUser();
          return bearer(ctx().owui.session(u.id, { iss: idp().issuer, tid: idp().tenantId, aud: idp().audience, oid: randomUUID() }));
        },
      },
      'an app-only token of a client app not on the allow-list': { status: 403, headers: async () => signed(idp().appClaims(randomUUID())) },
    },
  };
}

/** Open WebUI session JWTs and sk- keys, against the fixture of its tables. */
export function openWebUiMethod(ctx: Ctx): AuthMethodUnderTest {
  const owui = () => ctx().owui;
  const fresh = async () => (await owui().addUser()).id;
  return {
    name: 'openwebui',
    async valid(): Promise<MethodCredential> {
      const headers = bearer(owui().session(await fresh()));
      const userId = await userIdOf(ctx(), headers);
      return { headers, userId, disable: disabler(ctx(), userId) };
    },
    cases: {
      malformed: async () => ({ cookie: 'token=not.a-jwt' }),
      expired: async () => bearer(owui().session(await fresh(), { iat: now() - 7200, exp: now() - 3600 })),
      'not yet valid': async () => bearer(owui().session(await fresh(), { nbf: now() + 600 })),
      'wrong issuer': async () => bearer(owui().session(await fresh(), { iss: 'https://evil.example' })),
      'wrong signature': async () => bearer(owui().session(await fresh(), {}, { secret: 'not-the-webui-secret' })),
      'unsigned (alg none)': async () => bearer(new UnsecuredJWT({ id: await fresh(), exp: now() + 600 }).encode()),
      'HS256 signed with the RSA public key (alg confusion)': async () => bearer(owui().session(await fresh(), {}, { secret: ctx().idp.publicKeyPem })),
      'disabled user': async (base) => base.headers,
    },
    extra: {
      'no exp (JWT_EXPIRES_IN=-1 is not allowed by default)': { headers: async () => bearer(owui().session(await fresh(), { exp: undefined })) },
      'an RS256 token signed by the Entra key, shaped as an Open WebUI session': {
        headers: async () => bearer(await ctx().idp.sign({ id: await fresh(), exp: now() + 600, jti: randomUUID(), iat: now() })),
      },
      'a session of an unknown Open WebUI user': { headers: async () => bearer(owui().session(randomUUID())) },
      'the token cookie of a disabled user': {
        headers: async (base) => {
          await base.disable();
          return { cookie: `token=${base.headers.authorization!.slice('Bearer '.length)}` };
        },
      },
      'an unknown sk- API key': { headers: async () => bearer(`sk-${randomBytes(16).toString('hex')}`) },
      'a pending (not approved) Open WebUI user': { status: 403, headers: async () => bearer(owui().session((await owui().addUser({ role: 'pending' })).id)) },
    },
  };
}

interface GatewayKey {
  kid: string;
  alg: 'ES256' | 'RS256';
  privateKey: KeyObject;
  publicPem: string;
}

/** The gateway's current signing key, read from the database and unwrapped with the master keys. */
async function gatewayKey(ctx: MethodContext): Promise<GatewayKey> {
  const row = await ctx.repos.signingKeys.findCurrent();
  if (!row) throw new Error('the gateway has not made a signing key yet');
  const pem = createKeyring(parseMasterKeys(ctx.masterKeys)).decrypt(row.privateKey, `signing-key:${row.kid}`);
  const privateKey = createPrivateKey(pem);
  return { kid: row.kid, alg: row.alg, privateKey, publicPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string };
}

const foreignKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

/** Variants of a gateway-issued token: its claims changed and re-signed (or signed wrongly). */
function gatewayCases(ctx: Ctx): AuthMethodUnderTest['cases'] {
  const resign = async (base: MethodCredential, change: Record<string, unknown>, key?: KeyObject) => {
    const k = await gatewayKey(ctx());
    const claims = withoutUndefined({ ...claimsOf(base.headers.authorization!.slice(7)), ...change });
    return bearer(await new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: k.alg, kid: k.kid }).sign(key ?? k.privateKey));
  };
  return {
    malformed: async () => bearer(`${b64({ alg: 'ES256' })}.${b64({ iss: ctx().publicUrl }).slice(0, 10)}.x`),
    expired: async (base) => resign(base, { iat: now() - 7200, exp: now() - 3600 }),
    'not yet valid': async (base) => resign(base, { nbf: now() + 600 }),
    'wrong audience': async (base) => resign(base, { aud: 'https://another-resource.example' }),
    'wrong issuer': async (base) => resign(base, { iss: 'https://another-gateway.example' }),
    'wrong signature': async (base) => resign(base, {}, foreignKey),
    'unsigned (alg none)': async (base) => bearer(new UnsecuredJWT(claimsOf(base.headers.authorization!.slice(7)) as JWTPayload).encode()),
    'HS256 signed with the RSA public key (alg confusion)': async (base) => {
      const k = await gatewayKey(ctx());
      const head = b64({ alg: 'HS256', typ: 'JWT', kid: k.kid });
      const body = b64(claimsOf(base.headers.authorization!.slice(7)));
      return bearer(`${head}.${body}.${createHmac('sha256', k.publicPem).update(`${head}.${body}`).digest('base64url')}`);
    },
    'disabled user': async (base) => base.headers,
  };
}

/** Local accounts: tokens from POST /auth/login. */
export function localMethod(ctx: Ctx): AuthMethodUnderTest {
  const password = 'a long test password';
  return {
    name: 'local',
    async valid(): Promise<MethodCredential> {
      const c = ctx();
      const user = await c.repos.users.create({ email: `${randomBytes(5).toString('hex')}@local.test`, source: 'local' });
      await c.repos.localCredentials.setPassword(user.id, await hashPassword(password));
      const res = await fetch(`${c.gatewayUrl}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: user.email, password }) });
      if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
      const tokens = (await res.json()) as { access_token: string };
      return { headers: bearer(tokens.access_token), userId: user.id, disable: disabler(c, user.id) };
    },
    cases: gatewayCases(ctx),
    extra: {
      'a signed-out session': {
        headers: async (base) => {
          await fetch(`${ctx().gatewayUrl}/auth/logout`, { method: 'POST', headers: base.headers });
          return base.headers;
        },
      },
      'a token bound to another MCP endpoint (audience)': {
        headers: async (base) => {
          const k = await gatewayKey(ctx());
          const claims = { ...claimsOf(base.headers.authorization!.slice(7)), aud: `${ctx().publicUrl}/mcp/zz-other` };
          return bearer(await new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: k.alg, kid: k.kid }).sign(k.privateKey));
        },
      },
    },
  };
}

/** M2M clients: tokens from POST /oauth/token (client credentials). */
export function m2mMethod(ctx: Ctx): AuthMethodUnderTest {
  return {
    name: 'm2m',
    async valid(): Promise<MethodCredential> {
      const c = ctx();
      const clientId = `suite-${randomBytes(4).toString('hex')}`;
      const secret = randomSecret(32);
      const user = await c.repos.users.create({ email: `${clientId}@clients.mcpgw.invalid`, name: clientId, source: 'm2m' });
      await c.repos.m2mClients.create({ clientId, userId: user.id, secretHash: hashSecret(secret), secretPrefix: secret.slice(0, 6), description: '' });
      const res = await fetch(`${c.gatewayUrl}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
      });
      if (res.status !== 200) throw new Error(`token request failed: ${res.status}`);
      const token = ((await res.json()) as { access_token: string }).access_token;
      return { headers: bearer(token), userId: user.id, disable: disabler(c, user.id) };
    },
    cases: gatewayCases(ctx),
    extra: {
      'a token of a deleted client': {
        headers: async (base) => {
          await ctx().repos.users.remove(base.userId);
          return base.headers;
        },
      },
      'an Entra app-only token of an allow-listed app, but signed with a foreign key': {
        headers: async () => bearer(await ctx().idp.sign(ctx().idp.appClaims(ctx().allowedApp), { foreignKey: true })),
      },
    },
  };
}
