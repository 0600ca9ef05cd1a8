import { hashApiKey, looksLikeApiKey } from '@mcpgw/crypto';
import type { ApiKeyPrincipal, ApiKeyRepo } from '@mcpgw/db';
import type { Identity } from '@mcpgw/identity';
import type { KeyUsageRecorder } from '../key-usage.recorder.js';
import { refused, type AuthOutcome } from './auth-outcome.js';
import { narrowServers } from './identity.resolver.js';

export interface ApiKeyAuthenticatorOptions {
  repo: Pick<ApiKeyRepo, 'findPrincipalByHash'>;
  usage: KeyUsageRecorder;
  /** How long a principal read from the database is reused (0: every request reads). */
  cacheTtlMs: number;
  maxCacheEntries?: number;
  now?: () => number;
}

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
 */
export function createApiKeyAuthenticator(options: ApiKeyAuthenticatorOptions) {
  const now = options.now ?? Date.now;
  const max = options.maxCacheEntries ?? 50_000;
  const cache = new Map<string, { principal: ApiKeyPrincipal | null; until: number }>();

  async function principalFor(hash: string): Promise<ApiKeyPrincipal | null> {
    const hit = cache.get(hash);
    if (hit && hit.until > now()) return hit.principal;
    const principal = await options.repo.findPrincipalByHash(hash);
    if (options.cacheTtlMs > 0 && principal) {
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(hash, { principal, until: now() + options.cacheTtlMs });
    }
    return principal;
  }

  return {
    async authenticate(key: string): Promise<AuthOutcome> {
      if (!looksLikeApiKey(key)) return refused('malformed', 'apikey');
      let p: ApiKeyPrincipal | null;
      try {
        p = await principalFor(hashApiKey(key));
      } catch {
        return refused('unavailable', 'apikey', 'could not read the key');
      }
      if (!p) return refused('unknown', 'apikey');
      if (p.revokedAt) return refused('revoked', 'apikey');
      if (p.expiresAt && p.expiresAt.getTime() <= now()) return refused('expired', 'apikey');
      if (!p.enabled) return refused('disabled', 'apikey');
      options.usage.record(p.keyId);
      return { ok: true, identity: toIdentity(p) };
    },
  };
}
export type ApiKeyAuthenticator = ReturnType<typeof createApiKeyAuthenticator>;
