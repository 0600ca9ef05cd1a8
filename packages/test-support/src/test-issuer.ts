import { createHmac, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SignJWT, UnsecuredJWT, exportJWK, type JWTPayload } from 'jose';

interface IssuerKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface SignOptions {
  /** Sign with this kid in the header (default: the current key's). */
  kid?: string | null;
  /** Sign with a key the JWKS does not publish (wrong signature), keeping the kid. */
  foreignKey?: boolean;
  /** Header algorithm (default RS256). */
  alg?: 'RS256' | 'RS384' | 'PS256';
}

/**
 * A local stand-in for Microsoft Entra ID: real RSA keys generated here, a real JWKS served over
 * HTTP on 127.0.0.1 (fetches counted), key rotation, and helpers that mint valid and hostile tokens.
 */
export interface TestIssuer {
  jwksUri: string;
  authority: string;
  tenantId: string;
  /** v2 issuer of the tenant: {authority}/{tenant}/v2.0 */
  issuer: string;
  /** The API app's client id (v2 `aud`). */
  audience: string;
  /** The current key's kid. */
  readonly kid: string;
  /** The current key's public key as PEM (SPKI), as an attacker could read it from the JWKS. */
  readonly publicKeyPem: string;
  /** How many times the JWKS was fetched. */
  fetches(): number;
  /** Adds a new current key; `dropOld` removes the previous ones from the JWKS. */
  rotate(options?: { dropOld?: boolean }): void;
  /** Makes the JWKS endpoint answer 503 (an outage) or normally again. */
  setAvailable(available: boolean): void;
  /** Makes the JWKS endpoint wait this long before it answers (a slow or hung endpoint); 0: at once. */
  setDelay(ms: number): void;
  /** Claims of a v2 delegated (user) access token for this API; override what a test needs. */
  userClaims(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Claims of a v2 app-only (client credentials) token of client app `appId`. */
  appClaims(appId: string, overrides?: Record<string, unknown>): Record<string, unknown>;
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
  /** An unsigned token (`alg: none`). */
  unsigned(claims: Record<string, unknown>): string;
  /** HS256 with the RSA public key (PEM text, optionally whitespace-prefixed) as the HMAC secret. */
  hmacWithPublicKey(claims: Record<string, unknown>, options?: { prefix?: string }): string;
  close(): Promise<void>;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function newKey(): IssuerKey {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomUUID().replace(/-/g, '').slice(0, 22), privateKey: pair.privateKey, publicKey: pair.publicKey };
}

export async function startTestIssuer(options: { tenantId?: string; audience?: string; authority?: string } = {}): Promise<TestIssuer> {
  const tenantId = options.tenantId ?? randomUUID();
  const audience = options.audience ?? randomUUID();
  const authority = options.authority ?? 'https://login.microsoftonline.com';
  const issuer = `${authority}/${tenantId}/v2.0`;
  let keys: IssuerKey[] = [newKey()];
  const foreign = newKey();
  let fetches = 0;
  let available = true;
  let delayMs = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer(async (req, res) => {
    if (req.url !== '/discovery/v2.0/keys') {
      res.statusCode = 404;
      res.end();
      return;
    }
    fetches += 1;
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    if (res.destroyed) return;
    if (!available) {
      res.statusCode = 503;
      res.end();
      return;
    }
    const jwks = await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, use: 'sig', alg: 'RS256', issuer })));
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: jwks }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/discovery/v2.0/keys`;
  const current = () => keys.at(-1)!;
  const now = () => Math.floor(Date.now() / 1000);

  /** The claims every token of this tenant carries: audience, issuer, an hour of validity, tenant. */
  const registeredClaims = () => ({ aud: audience, iss: issuer, iat: now(), nbf: now(), exp: now() + 3600, tid: tenantId });

  return {
    jwksUri,
    authority,
    tenantId,
    issuer,
    audience,
    get kid() {
      return current().kid;
    },
    get publicKeyPem() {
      return current().publicKey.export({ type: 'spki', format: 'pem' }) as string;
    },
    fetches: () => fetches,
    rotate(opts = {}) {
      keys = opts.dropOld ? [newKey()] : [...keys, newKey()];
    },
    setAvailable(value) {
      available = value;
    },
    setDelay(ms) {
      delayMs = ms;
    },
    userClaims(overrides = {}) {
      const oid = randomUUID();
      return {
        ...registeredClaims(),
        oid,
        sub: randomUUID().replace(/-/g, ''),
        azp: randomUUID(),
        azpacr: '0',
        scp: 'access_as_user',
        preferred_username: `user-${oid.slice(0, 8)}@contoso.test`,
        name: `User ${oid.slice(0, 8)}`,
        uti: randomUUID().slice(0, 22),
        ver: '2.0',
        ...overrides,
      };
    },
    appClaims(appId, overrides = {}) {
      return {
        ...registeredClaims(),
        oid: randomUUID(),
        sub: randomUUID(),
        azp: appId,
        azpacr: '1',
        idtyp: 'app',
        roles: [],
        uti: randomUUID().slice(0, 22),
        ver: '2.0',
        ...overrides,
      };
    },
    async sign(claims, opts = {}) {
      const key = opts.foreignKey ? foreign.privateKey : current().privateKey;
      const header: { alg: string; typ: string; kid?: string } = { alg: opts.alg ?? 'RS256', typ: 'JWT' };
      const kid = opts.kid === undefined ? current().kid : opts.kid;
      if (kid !== null) header.kid = kid;
      return new SignJWT(claims as JWTPayload).setProtectedHeader(header).sign(key);
    },
    unsigned(claims) {
      return new UnsecuredJWT(claims as JWTPayload).encode();
    },
    hmacWithPublicKey(claims, opts = {}) {
      const head = b64url({ alg: 'HS256', typ: 'JWT', kid: current().kid });
      const body = b64url(claims);
      const secret = (opts.prefix ?? '') + (current().publicKey.export({ type: 'spki', format: 'pem' }) as string);
      return `${head}.${body}.${createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url')}`;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Requests held by setDelay must not keep close() waiting.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
