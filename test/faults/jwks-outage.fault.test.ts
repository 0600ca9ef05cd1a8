import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestIssuer, type TestDatabase, type TestIssuer, recordFigures } from '@mcpgw/test-support';
import { fastUpstream, inProcessGateway, percentile, type InProcessGateway } from './support.js';

/** The verifier's JWKS fetch timeout and refetch cool-down (entra-token.verifier.ts): two fetches per 10 s. */
const FETCH_TIMEOUT_MS = 5_000;
const COOLDOWN_MS = 10_000;

/**
 * R13: the Entra JWKS endpoint down (503) or slow (answers after 10 s). Keys fetched before keep
 * verifying new tokens; a token with an unknown kid gets 401, never a 5xx, and waits at most the
 * fetch timeout; a flood of unknown kids costs at most two JWKS fetches per 10 s cool-down. The
 * endpoint is the test issuer's real JWKS over HTTP; each case has its own gateway, so its
 * cool-down starts afresh.
 */
describe('gateway with the JWKS endpoint down or slow (R13)', () => {
  let t: TestDatabase;
  let idp: TestIssuer;
  let upstream: Awaited<ReturnType<typeof fastUpstream>>;
  const gateways: InProcessGateway[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    idp = await startTestIssuer();
    upstream = await fastUpstream();
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await upstream?.close();
    await idp?.close();
    await t?.cleanup();
  });

  const gateway = async () => {
    const g = await inProcessGateway({
      DATABASE_URL: t.url,
      DB_SCHEMA: t.schema,
      MCP_PROXY_URL: upstream.url,
      ENTRA_TENANT_IDS: idp.tenantId,
      ENTRA_AUDIENCES: idp.audience,
      ENTRA_JWKS_URI: idp.jwksUri,
      RATE_LIMIT_PER_MINUTE: '100000',
      RATE_LIMIT_PER_IP: '100000',
      ENABLE_API_ANALYTICS: 'false',
    });
    gateways.push(g);
    return g;
  };
  const call = async (g: InProcessGateway, token: string) => {
    const started = performance.now();
    const res = await fetch(`${g.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  };
  const tally = (results: { status: number; ms: number }[]) => {
    const ms = results.map((r) => r.ms);
    const round = (n: number) => Math.round(n);
    return {
      n: results.length,
      '200': results.filter((r) => r.status === 200).length,
      '401': results.filter((r) => r.status === 401).length,
      '5xx': results.filter((r) => r.status >= 500).length,
      p50ms: round(percentile(ms, 50)),
      p99ms: round(percentile(ms, 99)),
      maxMs: round(Math.max(0, ...ms)),
    };
  };
  /** `n` requests, at most `concurrency` at a time. */
  const flood = async (g: InProcessGateway, n: number, concurrency: number, token: () => Promise<string>) => {
    const results: { status: number; ms: number }[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          next += 1;
          results.push(await call(g, await token()));
        }
      }),
    );
    return results;
  };

  it('JWKS down (503): cached keys verify new tokens; 1,000 unknown-kid tokens get 401 at once, with at most two JWKS fetches per cool-down', async () => {
    const g = await gateway();
    expect((await call(g, await idp.sign(idp.userClaims()))).status).toBe(200); // key fetched and cached
    idp.setAvailable(false);
    try {
      const fetchesBefore = idp.fetches();
      const started = performance.now();
      const known = await flood(g, 50, 10, () => idp.sign(idp.userClaims()));
      const unknown = await flood(g, 1_000, 50, () => idp.sign(idp.userClaims(), { kid: randomUUID() }));
      const floodMs = performance.now() - started;
      const figures = {
        provoke: 'test issuer JWKS answers 503',
        newTokensKnownKid: tally(known),
        unknownKidTokens: tally(unknown),
        floodMs: Math.round(floodMs),
        jwksFetches: idp.fetches() - fetchesBefore,
        refetchRule: `at most 2 per ${COOLDOWN_MS / 1000} s`,
      };
      recordFigures('R13-down', figures);
      expect(figures.newTokensKnownKid['200']).toBe(50);
      expect(figures.unknownKidTokens['401']).toBe(1_000);
      expect(figures.unknownKidTokens['5xx']).toBe(0);
      // The warm-up fetch counts toward the first cool-down's two.
      expect(figures.jwksFetches).toBeLessThanOrEqual(2 * Math.ceil(floodMs / COOLDOWN_MS));
      expect(figures.unknownKidTokens.maxMs).toBeLessThan(FETCH_TIMEOUT_MS);
    } finally {
      idp.setAvailable(true);
    }
  });

  it('JWKS slow (answers after 10 s): cached keys verify at once; unknown kids get 401 within the fetch timeout; it works again when the endpoint does', async () => {
    const g = await gateway();
    expect((await call(g, await idp.sign(idp.userClaims()))).status).toBe(200);
    idp.setDelay(10_000);
    let figures: Record<string, unknown> = {};
    try {
      const fetchesBefore = idp.fetches();
      const [known, unknown] = await Promise.all([
        flood(g, 50, 5, () => idp.sign(idp.userClaims())),
        flood(g, 30, 30, () => idp.sign(idp.userClaims(), { kid: randomUUID() })),
      ]);
      figures = {
        provoke: 'test issuer JWKS answers after 10 s',
        fetchTimeoutMs: FETCH_TIMEOUT_MS,
        newTokensKnownKid: tally(known),
        unknownKidTokens: tally(unknown),
        jwksFetches: idp.fetches() - fetchesBefore,
      };
      expect(tally(known)['200']).toBe(50);
      expect(tally(known).p99ms).toBeLessThan(1_000);
      expect(tally(unknown)['401']).toBe(30);
      // Bounded by the fetch timeout (plus scheduling), never the endpoint's 10 s.
      expect(tally(unknown).maxMs).toBeLessThan(FETCH_TIMEOUT_MS + 2_000);
    } finally {
      idp.setDelay(0);
    }
    // The endpoint answers again: a rotated key is picked up once the cool-down allows a fetch.
    idp.rotate();
    const started = performance.now();
    let status = 0;
    while (status !== 200 && performance.now() - started < 15_000) {
      status = (await call(g, await idp.sign(idp.userClaims()))).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    figures.newKidAcceptedAfterRecoveryMs = Math.round(performance.now() - started);
    recordFigures('R13-slow', figures);
    expect(status).toBe(200);
  });
});
