import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, createTestDatabase, startTestIssuer, uniqueId, type TestDatabase, type TestIssuer } from '@mcpgw/test-support';
import { requestId, startRecordingUpstream, startTestGateway, type RecordingUpstream, type TestGateway } from '../services/gateway/test/support/gateway-harness.js';
import { initializeBody, makeIdentity, rawPost, startDemoUpstream, startProxy, type Proxy } from '../services/mcp-proxy/test/support/harness.js';

/**
 * Matrix row P2, clock skew of ±5 minutes between machines, with crafted timestamps instead of
 * faketime: (1) an identity provider whose clock runs ahead or behind the gateway's: JWT exp/nbf
 * are checked with JWT_CLOCK_SKEW_SECONDS (60 s) of tolerance, and a larger configured tolerance is
 * applied too; (2) a gateway whose clock differs from mcp-proxy's: the signed identity headers are
 * accepted within SIGNATURE_MAX_AGE_SECONDS (30 s) either way and refused beyond (stale).
 */
const MIN = 60;
let t: TestDatabase;
let idp: TestIssuer;
let upstream: RecordingUpstream;
let strict: TestGateway;
let lenient: TestGateway;

beforeAll(async () => {
  t = await createTestDatabase();
  idp = await startTestIssuer();
  upstream = await startRecordingUpstream();
  const entra = { ENTRA_TENANT_IDS: idp.tenantId, ENTRA_AUDIENCES: idp.audience, ENTRA_JWKS_URI: idp.jwksUri };
  [strict, lenient] = await Promise.all([
    startTestGateway(t, upstream.url, entra),
    startTestGateway(t, upstream.url, { ...entra, JWT_CLOCK_SKEW_SECONDS: String(6 * MIN) }),
  ]);
});
afterAll(async () => {
  await strict?.close();
  await lenient?.close();
  await upstream?.close();
  await idp?.close();
  await t?.cleanup();
});

/** A token from an issuer whose clock is `offset` seconds off the gateway's, valid for `ttl` seconds. */
async function tokenWithClockOffset(offset: number, ttl = 3600) {
  const at = Math.floor(Date.now() / 1000) + offset;
  return idp.sign(idp.userClaims({ iat: at, nbf: at, exp: at + ttl }));
}

async function status(gw: TestGateway, token: string) {
  const id = requestId();
  const res = await fetch(`${gw.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': id },
    body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
  });
  await res.body?.cancel();
  return { status: res.status, reached: upstream.reached(id) };
}

describe('P2: JWT clock skew at the gateway (JWT_CLOCK_SKEW_SECONDS)', () => {
  it.each([
    ['issuer 30 s ahead (nbf 30 s in the future)', 30, 3600, 200],
    ['issuer 5 min ahead (nbf 5 min in the future)', 5 * MIN, 3600, 401],
    ['issuer 5 min behind, long-lived token', -5 * MIN, 3600, 200],
    ['token expired 30 s ago by the gateway clock', -(5 * MIN + 30), 5 * MIN, 200],
    ['token expired 90 s ago by the gateway clock', -(5 * MIN + 90), 5 * MIN, 401],
    ['issuer 5 min behind, token expired 5 min ago', -10 * MIN, 5 * MIN, 401],
  ] as const)('default 60 s tolerance: %s (issuer clock %i s, ttl %i s) → %i', async (_label, offset, ttl, expected) => {
    const r = await status(strict, await tokenWithClockOffset(offset, ttl));
    expect(r.status).toBe(expected);
    expect(r.reached).toBe(expected === 200);
  });

  it.each([
    ['issuer 5 min ahead', 5 * MIN, 3600, 200],
    ['token expired 5 min ago', -10 * MIN, 5 * MIN, 200],
    ['issuer 7 min ahead', 7 * MIN, 3600, 401],
  ] as const)('configured 6 min tolerance: %s (issuer clock %i s, ttl %i s) → %i', async (_label, offset, ttl, expected) => {
    expect((await status(lenient, await tokenWithClockOffset(offset, ttl))).status).toBe(expected);
  });
});

describe('P2: gateway signature window at mcp-proxy (SIGNATURE_MAX_AGE_SECONDS)', () => {
  let proxy: Proxy;
  let demo: Awaited<ReturnType<typeof startDemoUpstream>>;
  let serverId: string;
  let group: string;
  beforeAll(async () => {
    proxy = await startProxy();
    demo = await startDemoUpstream();
    serverId = uniqueId('demo');
    await proxy.db.repos.servers.create({ id: serverId, name: 'Demo', transport: 'streamable-http', url: demo.url });
    const g = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(g.id, serverId, ['*']);
    group = g.name;
  });
  afterAll(async () => {
    await demo?.close();
    await proxy?.close();
  });

  it.each([
    ['gateway clock 20 s behind', -20_000, 200],
    ['gateway clock 20 s ahead', 20_000, 200],
    ['gateway clock 5 min behind (a stale or replayed signature)', -5 * 60_000, 403],
    ['gateway clock 5 min ahead', 5 * 60_000, 403],
  ] as const)('%s (%i ms) → %i', async (_label, skewMs, expected) => {
    const res = await rawPost(`${proxy.url}/mcp/${serverId}`, initializeBody(), { identity: makeIdentity({ groups: [group] }), nowMs: () => Date.now() + skewMs });
    expect(res.status).toBe(expected);
    if (expected === 403) expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { message: 'Request did not come through the gateway' } });
    else await res.body?.cancel();
  });
});
