import type { Identity } from '@mcpgw/identity';
import type { Grant, Subject } from '@mcpgw/policy';

export interface GrantSource {
  grantsForGroups(groupNames: readonly string[]): Promise<readonly Grant[]>;
}

export interface SubjectResolverOptions {
  access: GrantSource;
  /** How long one group list's grants are reused (0: every call asks the database). */
  ttlMs: number;
  /** Most group lists kept; the oldest entry goes first. */
  maxEntries?: number;
  now?: () => number;
}

export interface SubjectResolver {
  /** The policy subject of a caller: its key narrowing from the identity, its grants from its groups. */
  subjectFor(identity: Identity): Promise<Subject>;
}

/**
 * Grants are looked up per sorted, lower-cased group list and cached for a few seconds: Open WebUI
 * opens a session per chat turn (initialize → tools/list → call), and the people of one team share
 * the same list. Concurrent look-ups of the same list share one query; a failed one is not cached.
 */
export function createSubjectResolver(options: SubjectResolverOptions): SubjectResolver {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 1000;
  const cache = new Map<string, { at: number; grants: Promise<readonly Grant[]> }>();

  function grantsFor(groups: readonly string[]): Promise<readonly Grant[]> {
    if (groups.length === 0) return Promise.resolve([]);
    if (options.ttlMs <= 0) return options.access.grantsForGroups(groups);
    const key = [...new Set(groups.map((g) => g.toLowerCase()))].sort().join('\n');
    const hit = cache.get(key);
    if (hit && now() - hit.at < options.ttlMs) return hit.grants;
    const grants = options.access.grantsForGroups(groups);
    cache.delete(key);
    cache.set(key, { at: now(), grants });
    grants.catch(() => {
      if (cache.get(key)?.grants === grants) cache.delete(key);
    });
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    return grants;
  }

  return {
    async subjectFor(identity) {
      return {
        admin: identity.admin,
        grants: await grantsFor(identity.groups),
        allowServers: identity.allowServers,
        blockServers: identity.blockServers,
      };
    },
  };
}
