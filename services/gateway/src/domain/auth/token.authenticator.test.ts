import { describe, expect, it, vi } from 'vitest';
import type { Identity } from '@mcpgw/identity';
import { createTokenAuthenticator, type TokenVerifier, type VerifiedToken } from './token.authenticator.js';

const identity: Identity = { userId: 'u1', email: 'a@b', name: 'A', groups: [], admin: false, tenant: null, authMethod: 'entra', allowServers: null, blockServers: [] };
const jwt = (claims: Record<string, unknown>) => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const ctx = { path: '/mcp', requestId: 'r', clientIp: '127.0.0.1' };

function setup(options: { exp?: number | null; identityTtlMs?: number; verifyCache?: boolean; allows?: VerifiedToken['allows']; resolve?: VerifiedToken['resolve'] } = {}) {
  let clock = 1_000_000_000_000;
  const resolve = vi.fn(options.resolve ?? (async () => ({ ok: true as const, identity })));
  const verify = vi.fn(async () => ({ ok: true as const, token: { exp: options.exp === undefined ? clock / 1000 + 600 : options.exp, resolve, ...(options.allows ? { allows: options.allows } : {}) } }));
  const verifier: TokenVerifier = { method: 'entra', owns: (p) => p.payload.iss === 'me', verify };
  const auth = createTokenAuthenticator({ verifiers: [verifier], identityTtlMs: options.identityTtlMs ?? 30_000, clockSkewSec: 60, verifyCache: options.verifyCache, now: () => clock });
  return { auth, verify, resolve, tick: (ms: number) => (clock += ms) };
}

describe('createTokenAuthenticator', () => {
  it('verifies a token once and reuses the identity within its TTL', async () => {
    const s = setup();
    const token = jwt({ iss: 'me' });
    for (let i = 0; i < 3; i++) expect(await s.auth.authenticate(token, ctx)).toEqual({ ok: true, identity });
    expect(s.verify).toHaveBeenCalledTimes(1);
    expect(s.resolve).toHaveBeenCalledTimes(1);
  });

  it('reads the user again after the identity TTL, without verifying the signature again', async () => {
    const s = setup({ identityTtlMs: 1_000 });
    const token = jwt({ iss: 'me' });
    await s.auth.authenticate(token, ctx);
    s.tick(1_500);
    await s.auth.authenticate(token, ctx);
    expect(s.verify).toHaveBeenCalledTimes(1);
    expect(s.resolve).toHaveBeenCalledTimes(2);
  });

  it('with the verify cache off, checks the signature on every request but still reuses the identity', async () => {
    const s = setup({ verifyCache: false });
    const token = jwt({ iss: 'me' });
    for (let i = 0; i < 3; i++) expect(await s.auth.authenticate(token, ctx)).toEqual({ ok: true, identity });
    expect(s.verify).toHaveBeenCalledTimes(3);
    expect(s.resolve).toHaveBeenCalledTimes(1);
  });

  it('verifies again once the token expired (plus skew): expiry is never served from the cache', async () => {
    const s = setup({ identityTtlMs: 10_000_000 });
    const token = jwt({ iss: 'me' });
    await s.auth.authenticate(token, ctx);
    s.tick(600_000 + 60_001);
    await s.auth.authenticate(token, ctx);
    expect(s.verify).toHaveBeenCalledTimes(2);
  });

  it('checks the path rule on every use, cached or not', async () => {
    const s = setup({ allows: (c) => c.path === '/mcp' });
    const token = jwt({ iss: 'me' });
    expect((await s.auth.authenticate(token, ctx)).ok).toBe(true);
    expect(await s.auth.authenticate(token, { ...ctx, path: '/mcp-admin' })).toMatchObject({ ok: false, failure: 'wrong-audience' });
  });

  it('does not cache a refusal of the user, and answers unavailable when the user cannot be read', async () => {
    let fail = true;
    const s = setup({
      resolve: async () => {
        if (fail) throw new Error('database down');
        return { ok: true, identity };
      },
    });
    const token = jwt({ iss: 'me' });
    expect(await s.auth.authenticate(token, ctx)).toMatchObject({ ok: false, failure: 'unavailable' });
    fail = false;
    expect(await s.auth.authenticate(token, ctx)).toEqual({ ok: true, identity });
  });

  it('refuses tokens no verifier owns, and non-JWTs', async () => {
    const s = setup();
    expect(await s.auth.authenticate(jwt({ iss: 'someone-else' }), ctx)).toMatchObject({ ok: false, failure: 'wrong-issuer', verifier: 'none' });
    expect(await s.auth.authenticate('not.a.jwt', ctx)).toMatchObject({ ok: false, failure: 'malformed' });
  });

  it('bounds the cache', async () => {
    const verify = vi.fn(async () => ({ ok: true as const, token: { exp: 10_000, resolve: async () => ({ ok: true as const, identity }) } }));
    const auth = createTokenAuthenticator({ verifiers: [{ method: 'entra', owns: () => true, verify }], identityTtlMs: 1_000, clockSkewSec: 0, maxEntries: 2, now: () => 0 });
    const [a, b, c] = [jwt({ n: 1 }), jwt({ n: 2 }), jwt({ n: 3 })];
    await auth.authenticate(a, ctx);
    await auth.authenticate(b, ctx);
    await auth.authenticate(c, ctx);
    await auth.authenticate(a, ctx);
    expect(verify).toHaveBeenCalledTimes(4);
  });
});
