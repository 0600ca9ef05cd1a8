import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, createTestDatabase, startTestIssuer, type TestDatabase, type TestIssuer } from '@mcpgw/test-support';
import { createLocalAccount, json, requestId, startRecordingUpstream, startTestGateway, testMasterKeys, type RecordingUpstream, type TestGateway } from './support/gateway-harness.js';

/**
 * Issue 9 item 8, property-based: whatever a caller puts where a credential goes (Authorization,
 * X-API-Key, the Open WebUI cookie), and however a valid JWT or API key is altered, the gateway
 * answers 401 with a JSON body: never 500, never a crash, and nothing reaches mcp-proxy. Valid
 * tokens carrying hostile claim values (any text in name, email, groups) never cause a 500.
 * Bounded: about 150 requests per property.
 */
let t: TestDatabase;
let idp: TestIssuer;
let upstream: RecordingUpstream;
let gw: TestGateway;
let apiKey: string;
let localToken: string;
const RUNS = { numRuns: 150, interruptAfterTimeLimit: 4_000 };
const PASSWORD = 'fuzz password 0123456789';

beforeAll(async () => {
  t = await createTestDatabase();
  idp = await startTestIssuer();
  upstream = await startRecordingUpstream();
  gw = await startTestGateway(t, upstream.url, {
    ENTRA_TENANT_IDS: idp.tenantId,
    ENTRA_AUDIENCES: idp.audience,
    ENTRA_JWKS_URI: idp.jwksUri,
    MASTER_KEYS: testMasterKeys(),
    RATE_LIMIT_ENABLED: 'false',
    API_KEY_GUESSES_PER_IP: '1000000',
    API_KEY_GUESSES_PER_PREFIX: '1000000',
    LOGIN_ATTEMPTS_PER_IP: '1000000',
    TOKEN_VERIFY_CACHE: 'false',
  });
  apiKey = (await createFixtures(t.repos).user()).key;
  const account = await createLocalAccount(t.repos, { password: PASSWORD });
  const login = await fetch(`${gw.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: account.email, password: PASSWORD }) });
  localToken = (await json(login)).access_token;
});
afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await idp?.close();
  await t?.cleanup();
});

/** One request to /mcp with these headers: its status, whether it reached mcp-proxy, its body parsed. */
async function send(headers: Record<string, string>) {
  const id = requestId();
  const res = await fetch(`${gw.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-request-id': id, ...headers },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, reached: upstream.reached(id), body, text };
}

function expectRefused(r: Awaited<ReturnType<typeof send>>, what: string) {
  expect(r.status, `${what}: ${r.text}`).toBe(401);
  expect(r.reached, what).toBe(false);
  expect(r.body, `${what}: body is JSON`).toBeTypeOf('object');
}

/** Header values fetch can send: visible ASCII and spaces, no CR/LF. */
const headerText = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 }).map((s) => s.trim());
const b64urlChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''));

/** A change to a token that is guaranteed to change what it decodes to (base64url's spare bits do not count). */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: b64urlChar }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), extra: headerText.filter((s) => s.length > 0 && !/\s/.test(s)) }),
  fc.record({ kind: fc.constant('drop-segment' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap-segments' as const) }),
  fc.record({ kind: fc.constant('alg' as const), alg: fc.constantFrom('none', 'HS256', 'ES256', 'RS512', '', 'PS256') }),
  fc.record({ kind: fc.constant('case' as const), at: fc.nat() }),
);

const decodedSegments = (token: string) => token.split('.').map((s) => Buffer.from(s, 'base64url').toString('hex'));

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(token: string, m: Mutation): string {
  const parts = token.split('.');
  switch (m.kind) {
    case 'replace':
      return token.slice(0, m.at % token.length) + m.char + token.slice((m.at % token.length) + 1);
    case 'truncate':
      return token.slice(0, m.at % token.length);
    case 'append':
      return token + m.extra;
    case 'drop-segment':
      return parts.filter((_, i) => i !== m.at % parts.length).join('.');
    case 'swap-segments':
      return [parts[1], parts[0], ...parts.slice(2)].join('.');
    case 'alg': {
      if (parts.length < 2) return `${token}x`;
      const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString() || '{}');
      return [Buffer.from(JSON.stringify({ ...header, alg: m.alg })).toString('base64url'), ...parts.slice(1)].join('.');
    }
    case 'case': {
      const i = m.at % token.length;
      const c = token[i]!;
      return token.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + token.slice(i + 1);
    }
  }
}

describe('gateway credential parsing (fuzz)', () => {
  it('controls: the valid API key, Entra token and local token pass', async () => {
    for (const token of [apiKey, await idp.sign(idp.userClaims()), localToken]) {
      expect((await send({ authorization: `Bearer ${token}` })).status).toBe(200);
    }
  });

  it('any text as Authorization, X-API-Key or the Open WebUI cookie is refused with 401', async () => {
    const place = fc.constantFrom('authorization', 'bearer', 'x-api-key', 'cookie');
    const prefix = fc.constantFrom('', 'mcpgw_', 'sk-', 'eyJ', 'eyJhbGciOiJub25lIn0.');
    await fc.assert(
      fc.asyncProperty(place, prefix, headerText, async (where, pre, value) => {
        const v = `${pre}${value}`;
        const headers: Record<string, string> =
          where === 'authorization' ? { authorization: v }
          : where === 'bearer' ? { authorization: `Bearer ${v}` }
          : where === 'x-api-key' ? { 'x-api-key': v }
          : { cookie: `token=${encodeURIComponent(v)}` };
        const r = await send(headers);
        // No credential at all (an empty header, a cookie-less request) is also a 401: "missing".
        expectRefused(r, `${where}=${JSON.stringify(v)}`);
      }),
      RUNS,
    );
  });

  it('an altered Entra JWT, gateway-issued JWT or API key is refused with 401', async () => {
    const entra = await idp.sign(idp.userClaims());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('entra', 'local', 'apikey'), mutation, async (which, m) => {
        const original = which === 'entra' ? entra : which === 'local' ? localToken : apiKey;
        const altered = mutate(original, m);
        // Only changes that change what the token decodes to (or its text, for API keys) count.
        fc.pre(altered !== original && altered.trim() !== '' && (which === 'apikey' || decodedSegments(altered).join('.') !== decodedSegments(original).join('.')));
        expectRefused(await send({ authorization: `Bearer ${altered}` }), `${which} ${JSON.stringify(m)}`);
      }),
      RUNS,
    );
  });

  it('a correctly signed token with hostile claim values is never a 500 (200 or 401 only)', async () => {
    const anyText = fc.string({ unit: 'binary', maxLength: 80 });
    const hostile = fc.record(
      {
        name: anyText,
        email: anyText,
        preferred_username: anyText,
        groups: fc.array(anyText, { maxLength: 5 }),
        roles: fc.array(anyText, { maxLength: 3 }),
        extra: fc.jsonValue({ maxDepth: 3 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(hostile, async (claims) => {
        const token = await idp.sign(idp.userClaims(claims));
        const r = await send({ authorization: `Bearer ${token}` });
        expect([200, 401], `${JSON.stringify(claims)}: ${r.text}`).toContain(r.status);
        if (r.status !== 200) expect(r.reached).toBe(false);
      }),
      RUNS,
    );
  });

  it('the gateway still answers afterwards', async () => {
    expect((await fetch(`${gw.url}/gateway/health`)).status).toBe(200);
    expect((await send({ authorization: `Bearer ${apiKey}` })).status).toBe(200);
  });
});
