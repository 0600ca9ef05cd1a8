import { createHash } from 'node:crypto';
import type { Identity } from '@mcpgw/identity';
import { refused, type AuthOutcome } from './auth-outcome.js';
import type { IdentityResolver } from './identity.resolver.js';
import type { OpenWebUiDirectory } from './openwebui.directory.js';
import { openWebUiIdentity } from './openwebui-session.verifier.js';
import type { AuthContext } from './token.authenticator.js';

const SHAPE = /^sk-[A-Za-z0-9_-]{8,200}$/;

/**
 * Open WebUI API keys (`sk-…`), when enabled: looked up in its api_key table; identities are cached
 * by the key's SHA-256 for `cacheTtlMs`.
 */
export function createOpenWebUiKeyAuthenticator(options: {
  enabled: boolean;
  directory: OpenWebUiDirectory | null;
  resolver: IdentityResolver;
  cacheTtlMs: number;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const cache = new Map<string, { identity: Identity; until: number }>();
  return {
    async authenticate(key: string, ctx: AuthContext): Promise<AuthOutcome> {
      const { directory } = options;
      if (!options.enabled || !directory) return refused('unsupported', 'openwebui', 'Open WebUI API keys are not accepted');
      if (!SHAPE.test(key)) return refused('malformed', 'openwebui', 'not an Open WebUI API key');
      const hash = createHash('sha256').update(key).digest('hex');
      const hit = cache.get(hash);
      if (hit && hit.until > now()) return { ok: true, identity: hit.identity };
      try {
        const found = await directory.findByApiKey(key);
        if (!found) return refused('unknown', 'openwebui', 'unknown Open WebUI API key');
        if (found.expiresAt !== null && found.expiresAt * 1000 <= now()) return refused('expired', 'openwebui', 'Open WebUI API key expired');
        const outcome = await openWebUiIdentity(options.resolver, found.user, ctx);
        if (outcome.ok && options.cacheTtlMs > 0) {
          if (cache.size >= 10_000) cache.delete(cache.keys().next().value as string);
          cache.set(hash, { identity: outcome.identity, until: now() + options.cacheTtlMs });
        }
        return outcome;
      } catch {
        return refused('unavailable', 'openwebui', 'could not read Open WebUI users');
      }
    },
  };
}
export type OpenWebUiKeyAuthenticator = ReturnType<typeof createOpenWebUiKeyAuthenticator>;
