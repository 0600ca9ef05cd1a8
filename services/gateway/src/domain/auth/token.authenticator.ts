import { createHash } from 'node:crypto';
import type { AuthMethod } from '@mcpgw/identity';
import { refused, type AuthFailure, type AuthOutcome } from './auth-outcome.js';
import { peekJwt, type PeekedJwt } from './jwt-check.js';

/** What a request tells the authenticators besides the credential. */
export interface AuthContext {
  /** Path of the request (audience checks bind some tokens to a path). */
  path: string;
  requestId: string;
  clientIp: string;
}

/** A token whose signature and claims checked out. */
export interface VerifiedToken {
  /** exp in seconds since the epoch; null for a token without one (accepted only where allowed). */
  exp: number | null;
  /** Checked on every use, cached or not (e.g. the token's audience against the request path). */
  allows?(ctx: AuthContext): boolean;
  /** Reads the token's user (database): runs again whenever the cached identity is stale. */
  resolve(ctx: AuthContext): Promise<AuthOutcome>;
}

export type VerifyResult = { ok: true; token: VerifiedToken } | { ok: false; failure: AuthFailure; detail: string };

/** One verifier per token issuer, each with its own fixed algorithm allow-list. */
export interface TokenVerifier {
  readonly method: AuthMethod;
  /** Whether this verifier is the one for a token with these unverified header and claims. */
  owns(peeked: PeekedJwt): boolean;
  verify(token: string, peeked: PeekedJwt): Promise<VerifyResult>;
}

export interface TokenAuthenticatorOptions {
  verifiers: readonly TokenVerifier[];
  /** How long a resolved identity is reused before the user is read again (0: every request). */
  identityTtlMs: number;
  clockSkewSec: number;
  maxEntries?: number;
  /** Cache lifetime of a verified token without exp. */
  noExpTtlMs?: number;
  /**
   * false: check the signature and claims on every request (the resolved identity is still reused
   * for `identityTtlMs`). Only for measuring what the cache saves (bench/); default true.
   */
  verifyCache?: boolean;
  now?: () => number;
}

interface Entry {
  verified: VerifiedToken;
  method: AuthMethod;
  until: number;
  identity: Extract<AuthOutcome, { ok: true }>['identity'] | null;
  identityUntil: number;
}

/**
 * JWTs of every issuer: picks the verifier by the token's issuer (header and claims read without
 * trust), verifies once, and keeps the verified token by SHA-256 until it expires (bounded), so a
 * busy caller costs one signature check per token. The user behind it is re-read every
 * `identityTtlMs`, so disabling a user or changing groups takes effect within that time.
 */
export function createTokenAuthenticator(options: TokenAuthenticatorOptions) {
  const now = options.now ?? Date.now;
  const max = options.maxEntries ?? 20_000;
  const cache = new Map<string, Entry>();

  function remember(hash: string, entry: Entry): void {
    if (cache.size >= max) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(hash, entry);
  }

  async function verify(token: string, hash: string): Promise<Entry | AuthOutcome> {
    const peeked = peekJwt(token);
    if (!peeked) return refused('malformed', 'none', 'not a JWT');
    const verifier = options.verifiers.find((v) => v.owns(peeked));
    if (!verifier) return refused('wrong-issuer', 'none', 'no verifier for this issuer');
    let result: VerifyResult;
    try {
      result = await verifier.verify(token, peeked);
    } catch {
      return refused('unavailable', verifier.method, 'could not verify the token');
    }
    if (!result.ok) return refused(result.failure, verifier.method, result.detail);
    const until = result.token.exp === null ? now() + (options.noExpTtlMs ?? 300_000) : (result.token.exp + options.clockSkewSec) * 1000;
    const entry: Entry = { verified: result.token, method: verifier.method, until, identity: null, identityUntil: 0 };
    remember(hash, entry);
    return entry;
  }

  return {
    async authenticate(token: string, ctx: AuthContext): Promise<AuthOutcome> {
      const hash = createHash('sha256').update(token).digest('hex');
      let entry = cache.get(hash);
      if (entry && entry.until <= now()) {
        cache.delete(hash);
        entry = undefined;
      }
      if (!entry || options.verifyCache === false) {
        const verified = await verify(token, hash);
        if ('ok' in verified) return verified;
        // Re-verified on every request: keep the identity resolved earlier for its own TTL.
        if (entry) Object.assign(verified, { identity: entry.identity, identityUntil: Math.min(entry.identityUntil, verified.until) });
        entry = verified;
      }
      if (entry.verified.allows && !entry.verified.allows(ctx)) return refused('wrong-audience', entry.method, 'token is not for this resource');
      if (entry.identity && entry.identityUntil > now()) return { ok: true, identity: entry.identity };
      let outcome: AuthOutcome;
      try {
        outcome = await entry.verified.resolve(ctx);
      } catch {
        return refused('unavailable', entry.method, 'could not read the user');
      }
      if (outcome.ok && options.identityTtlMs > 0) {
        entry.identity = outcome.identity;
        entry.identityUntil = Math.min(now() + options.identityTtlMs, entry.until);
      }
      return outcome;
    },
    /** Forgets every cached token (tests, and after a key revocation). */
    clear(): void {
      cache.clear();
    },
  };
}
export type TokenAuthenticator = ReturnType<typeof createTokenAuthenticator>;
