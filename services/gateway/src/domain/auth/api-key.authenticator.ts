import { hashApiKey, looksLikeApiKey } from '@mcpgw/crypto';
import type { ApiKeyPrincipal, ApiKeyRepo } from '@mcpgw/db';
import type { Identity } from '@mcpgw/identity';
import type { KeyUsageRecorder } from '../key-usage.recorder.js';
import { refused, type AuthOutcome } from './auth-outcome.js';
import type { GuessVerdict, KeyGuessGuard } from './key-guess.guard.js';
import { narrowServers } from './identity.resolver.js';

export interface ApiKeyAuthenticatorOptions {
  repo: Pick<ApiKeyRepo, 'findPrincipalByHash'>;
  usage: KeyUsageRecorder;
  /** How long a principal read from the database is reused (0: every request reads). */
  cacheTtlMs: number;
  maxCacheEntries?: number;
  /** Counts and throttles keys that do not exist (brute force); absent: no throttle. */
  guard?: KeyGuessGuard;
  now?: () => number;
}

const throttledOutcome = (retryAfterSec: number) => refused('throttled', 'apikey', `too many unknown keys; retry after ${retryAfterSec} s`);
const guessRefusal = (verdict: Exclude<GuessVerdict, { go: true }>): AuthOutcome =>
  verdict.why === 'unavailable' ? refused('unavailable', 'apikey', 'guess counters unavailable') : throttledOutcome(verdict.retryAfterSec);

function toIdentity(p: ApiKeyPrincipal): Identity {
  const lists = narrowServers(
    { allowServers: p.userAllowServers, blockServers: p.userBlockServers },
    { allowServers: p.allowServers, blockServers: p.blockServers },
  );
  return {
    userId: p.userId,
    email: p.email,
    name: p.name,
    groups: p.groups,
    admin: p.admin,
    tenant: p.tenantId,
    authMethod: 'apikey',
    allowServers: lists.allowServers,
    blockServers: lists.blockServers,
  };
}

/**
 * Resolves an `mcpgw_` key to its caller. Only the SHA-256 of the key is looked up (the hash is
 * the lookup key, so no secret is ever compared); principals are cached by hash for `cacheTtlMs`,
 * so revocation and disabling take effect within that time. The key's server lists narrow the
 * user's own lists.
 *
 * Timing: the lookup is by the hash of the whole key, so a guess sharing a real key's prefix costs
 * the same as a random one (no prefix lookup, no comparison of secrets). Keys that do not exist
 * pass the guess guard first; keys seen to exist (even revoked ones) never count as guesses.
 */
export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions) {
  const now = options.now ?? Date.now;
  const max = options.maxCacheEntries ?? 50_000;
  const cache = new Map<string, { principal: ApiKeyPrincipal | null; until: number }>();
  /** Hashes of keys seen to exist: they skip the guess guard (their owners never wait on it). */
  const known = new Set<string>();
  const remember = (hash: string) => {
    if (known.size >= max) known.delete(known.values().next().value as string);
    known.add(hash);
  };

  async function principalFor(hash: string): Promise<ApiKeyPrincipal | null> {
    const hit = cache.get(hash);
    if (hit && hit.until > now()) return hit.principal;
    const principal = await options.repo.findPrincipalByHash(hash);
    if (principal) remember(hash);
    if (options.cacheTtlMs > 0 && principal) {
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(hash, { principal, until: now() + options.cacheTtlMs });
    }
    return principal;
  }

  return {
    async authenticate(key: string, ctx?: { clientIp: string }): Promise<AuthOutcome> {
      const guard = ctx ? options.guard : undefined;
      if (!looksLikeApiKey(key)) {
        // A broken key is a failed guess too, though it costs no lookup.
        const verdict = guard ? await guard.failed(key, ctx!.clientIp) : null;
        if (verdict && !verdict.go && verdict.why === 'throttled') return throttledOutcome(verdict.retryAfterSec);
        return refused('malformed', 'apikey');
      }
      const hash = hashApiKey(key);
      const guarded = guard !== undefined && !known.has(hash);
      if (guarded) {
        const verdict = await guard.check(key, ctx!.clientIp);
        if (!verdict.go) return guessRefusal(verdict);
      }
      let p: ApiKeyPrincipal | null;
      try {
        p = await principalFor(hash);
      } catch {
        return refused('unavailable', 'apikey', 'could not read the key');
      }
      if (!p) {
        const verdict = guarded ? await guard.failed(key, ctx!.clientIp) : null;
        return verdict && !verdict.go ? guessRefusal(verdict) : refused('unknown', 'apikey');
      }
      if (p.revokedAt) return refused('revoked', 'apikey');
      if (p.expiresAt && p.expiresAt.getTime() <= now()) return refused('expired', 'apikey');
      if (!p.enabled) return refused('disabled', 'apikey');
      options.usage.record(p.keyId);
      return { ok: true, identity: toIdentity(p) };
    },
  };
}
export type ApiKeyAuthenticator = ReturnType<typeof createApiKeyAuthenticator>;
