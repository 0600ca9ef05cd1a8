import type { Db, ExternalIdentityKey, Repos, UserPrincipal, UserSource } from '@mcpgw/db';
import type { SecurityEventRecorder } from '@mcpgw/http';
import type { AuthMethod, Identity } from '@mcpgw/identity';

export interface ServerLists {
  allowServers: readonly string[] | null;
  blockServers: readonly string[];
}

/**
 * Combines a user's server lists with a credential's (an API key's): the allow lists intersect
 * (null: no narrowing), the block lists add up. A key narrows its user's access, never widens it.
 */
export function narrowServers(user: ServerLists, credential: ServerLists): ServerLists {
  const allow =
    user.allowServers === null
      ? credential.allowServers
      : credential.allowServers === null
        ? user.allowServers
        : user.allowServers.filter((s) => credential.allowServers!.includes(s));
  const block = [...new Set([...user.blockServers, ...credential.blockServers])];
  return { allowServers: allow === null ? null : [...allow], blockServers: block };
}

/** The identity of a resolved user; the same shape whatever the auth method. */
export function toIdentity(p: UserPrincipal, authMethod: AuthMethod, options: { admin?: boolean; credential?: ServerLists } = {}): Identity {
  const lists = narrowServers(p, options.credential ?? { allowServers: null, blockServers: [] });
  return {
    userId: p.userId,
    email: p.email,
    name: p.name,
    groups: p.groups,
    admin: p.admin || options.admin === true,
    tenant: p.tenantId,
    authMethod,
    allowServers: lists.allowServers,
    blockServers: lists.blockServers,
  };
}

export interface ExternalSignIn {
  key: ExternalIdentityKey;
  /** Display data from the provider (never used to authorise). */
  display: { email: string; name: string };
  /** Source of a user created on first sight. */
  source: UserSource;
  /**
   * Claim values that map to groups (Entra `groups` and `roles`). `groups: null` means the token's
   * group list is incomplete (overage): stored memberships are kept, mapped ones only added.
   * Absent: memberships are not derived from the provider.
   */
  claims?: { groups: readonly string[] | null; roles: readonly string[] };
  requestId?: string;
  clientIp?: string;
}

export interface IdentityResolverOptions {
  db: Pick<Db, 'withTransaction'>;
  repos: Pick<Repos, 'userIdentities' | 'idpMappings' | 'audit'>;
  security: SecurityEventRecorder;
}

/**
 * Turns verified credentials into users: by id (tokens the gateway issued) or by external identity
 * (Entra (tid, oid), Open WebUI user id), creating the user on first sight with no access, and
 * keeping provider-derived group memberships in step with the token's claims.
 */
export function createIdentityResolver(options: IdentityResolverOptions) {
  const { db, repos, security } = options;
  const overageSeen = new Map<string, number>();

  function noteOverage(sign: ExternalSignIn, userId: string, email: string): void {
    // One event per user per hour: the fallback is a standing condition, not an attack.
    const last = overageSeen.get(userId) ?? 0;
    if (Date.now() - last < 3_600_000) return;
    if (overageSeen.size > 10_000) overageSeen.clear();
    overageSeen.set(userId, Date.now());
    security.record({
      kind: 'group-overage',
      reason: 'token carries no group list (overage); stored memberships used',
      userId,
      userEmail: email,
      clientIp: sign.clientIp ?? null,
      requestId: sign.requestId ?? null,
      details: { provider: sign.key.provider, tenant: sign.key.issuer },
    });
  }

  return {
    findUser(userId: string): Promise<UserPrincipal | null> {
      return repos.userIdentities.findPrincipal(userId);
    },

    async signIn(sign: ExternalSignIn): Promise<{ principal: UserPrincipal | null; created: boolean }> {
      let userId = await repos.userIdentities.findUserId(sign.key);
      let created = false;
      if (!userId) {
        const result = await db.withTransaction(async (tx) => {
          const r = await repos.userIdentities.createForIdentity(sign.key, { ...sign.display, source: sign.source }, tx);
          if (r.created) {
            await repos.audit.append(
              {
                actorUserId: null,
                actorEmail: 'system',
                action: 'user.create-on-first-sign-in',
                targetType: 'user',
                targetId: r.userId,
                after: { provider: sign.key.provider, issuer: sign.key.issuer, subject: sign.key.subject, email: sign.display.email, source: sign.source },
                requestId: sign.requestId ?? null,
              },
              tx,
            );
          }
          return r;
        });
        userId = result.userId;
        created = result.created;
      }
      if (sign.claims) {
        const groupIds = await repos.idpMappings.groupIdsFor({ groups: sign.claims.groups ?? [], roles: sign.claims.roles });
        const changed = await repos.userIdentities.syncIdpMemberships(userId, groupIds, sign.claims.groups === null ? 'add' : 'replace');
        if (changed) {
          await repos.audit.append({
            actorUserId: null,
            actorEmail: 'system',
            action: 'user.memberships-from-provider',
            targetType: 'user',
            targetId: userId,
            after: { groupIds, complete: sign.claims.groups !== null },
            requestId: sign.requestId ?? null,
          });
        }
        if (sign.claims.groups === null) noteOverage(sign, userId, sign.display.email);
      }
      await repos.userIdentities.touch(sign.key, userId, sign.display);
      return { principal: await repos.userIdentities.findPrincipal(userId), created };
    },
  };
}
export type IdentityResolver = ReturnType<typeof createIdentityResolver>;
