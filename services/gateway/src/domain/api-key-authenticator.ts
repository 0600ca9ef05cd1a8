import { hashApiKey, looksLikeApiKey } from '@mcpgw/crypto';
import type { ApiKeyPrincipal, ApiKeyRepo } from '@mcpgw/db';
import type { Identity } from '@mcpgw/identity';
import type { KeyUsageRecorder } from './key-usage.recorder.js';

export type AuthFailure = 'malformed' | 'unknown' | 'revoked' | 'expired' | 'disabled';
export type AuthResult = { ok: true; identity: Identity; keyId: string } | { ok: false; failure: AuthFailure };

export interface ApiKeyAuthenticatorOptions {
  repo: Pick<ApiKeyRepo, 'findPrincipalByHash'>;
  usage: KeyUsageRecorder;
  /** How long a principal read from the database is reused (0: every request reads). */
  cacheTtlMs: number;
  maxCacheEntries?: number;
  now?: () => number;
}

function toIdentity(p: ApiKeyPrincipal): Identity {
  return {
    userId: p.userId,
    email: p.email,
    name: p.name,
    groups: p.groups,
    admin: p.admin,
    tenant: p.tenantId,
    authMethod: 'apikey',
    allowServers: p.allowServers,
    blockServers: p.blockServers,
  };
}

/**
 * Resolves an `mcpgw_` key to its caller. Only the SHA-256 of the key is looked up; principals are
 * cached by hash for `cacheTtlMs`, so revocation and disabling take effect within that time.
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
    async authenticate(key: string): Promise<AuthResult> {
      if (!looksLikeApiKey(key)) return { ok: false, failure: 'malformed' };
      const p = await principalFor(hashApiKey(key));
      if (!p) return { ok: false, failure: 'unknown' };
      if (p.revokedAt) return { ok: false, failure: 'revoked' };
      if (p.expiresAt && p.expiresAt.getTime() <= now()) return { ok: false, failure: 'expired' };
      if (!p.enabled) return { ok: false, failure: 'disabled' };
      options.usage.record(p.keyId);
      return { ok: true, identity: toIdentity(p), keyId: p.keyId };
    },
  };
}
export type ApiKeyAuthenticator = ReturnType<typeof createApiKeyAuthenticator>;
