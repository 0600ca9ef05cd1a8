import type { Queryable } from '../db.js';
import type { UserSource } from './user.repo.js';

export type IdentityProvider = 'entra' | 'openwebui';

/** A user with everything the gateway puts into an identity, read in one query. */
export interface UserPrincipal {
  userId: string;
  email: string;
  name: string;
  source: UserSource;
  enabled: boolean;
  /** Admin directly or through an admin group. */
  admin: boolean;
  /** The user's tenant, else the tenant of its first group (by name) that has one. */
  tenantId: string | null;
  groups: string[];
  /** The user's own server lists (admin-set): null allow list means no narrowing. */
  allowServers: string[] | null;
  blockServers: string[];
}

export interface ExternalIdentityKey {
  provider: IdentityProvider;
  /** Entra: tenant id (`tid`); Open WebUI: ''. */
  issuer: string;
  /** Entra: object id (`oid`); Open WebUI: its user id. */
  subject: string;
}

export interface NewExternalUser {
  email: string;
  name: string;
  source: UserSource;
}

/**
 * Users as the gateway resolves them: by id (tokens it issued), by external identity (Entra
 * (tid, oid), Open WebUI user id), just-in-time creation, and memberships derived from the
 * identity provider's claims.
 */
export function createUserIdentityRepo(db: Queryable) {
  return {
    async findPrincipal(userId: string, q: Queryable = db): Promise<UserPrincipal | null> {
      const { rows } = await q.query<UserPrincipal>(
        `SELECT u.id AS "userId", u.email, u.name, u.source, u.enabled,
                (u.is_admin OR COALESCE(bool_or(g.is_admin), false)) AS admin,
                COALESCE(u.tenant_id, (array_agg(g.tenant_id ORDER BY g.name) FILTER (WHERE g.tenant_id IS NOT NULL))[1]) AS "tenantId",
                COALESCE(array_agg(g.name ORDER BY g.name) FILTER (WHERE g.id IS NOT NULL), '{}') AS groups,
                u.allow_servers AS "allowServers", u.block_servers AS "blockServers"
         FROM users u
         LEFT JOIN group_memberships m ON m.user_id = u.id
         LEFT JOIN groups g ON g.id = m.group_id
         WHERE u.id = $1
         GROUP BY u.id`,
        [userId],
      );
      return rows[0] ?? null;
    },

    async findUserId(key: ExternalIdentityKey, q: Queryable = db): Promise<string | null> {
      const { rows } = await q.query<{ userId: string }>(
        'SELECT user_id AS "userId" FROM user_identities WHERE provider = $1 AND issuer = $2 AND subject = $3',
        [key.provider, key.issuer, key.subject],
      );
      return rows[0]?.userId ?? null;
    },

    /**
     * Creates the user of an external identity seen for the first time, with no groups and no
     * admin flag. Concurrent first sign-ins of the same identity create one user: the loser of the
     * race gets the winner's id. Run it inside a transaction (`q`).
     */
    async createForIdentity(key: ExternalIdentityKey, user: NewExternalUser, q: Queryable): Promise<{ userId: string; created: boolean }> {
      await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`identity:${key.provider}:${key.issuer}:${key.subject}`]);
      const existing = await this.findUserId(key, q);
      if (existing) return { userId: existing, created: false };
      const { rows } = await q.query<{ id: string }>(
        `INSERT INTO users (email, name, source) VALUES ($1, $2, $3) RETURNING id`,
        [user.email, user.name, user.source],
      );
      const userId = rows[0]!.id;
      await q.query('INSERT INTO user_identities (provider, issuer, subject, user_id) VALUES ($1, $2, $3, $4)', [
        key.provider,
        key.issuer,
        key.subject,
        userId,
      ]);
      return { userId, created: true };
    },

    /** Records the sign-in and keeps the display fields (email, name) in step with the provider. */
    async touch(key: ExternalIdentityKey, userId: string, display: { email: string; name: string }, q: Queryable = db): Promise<void> {
      await q.query('UPDATE user_identities SET last_seen_at = now() WHERE provider = $1 AND issuer = $2 AND subject = $3', [
        key.provider,
        key.issuer,
        key.subject,
      ]);
      await q.query(
        `UPDATE users SET last_seen_at = now(),
           email = CASE WHEN source = 'local' THEN email ELSE $2 END,
           name = CASE WHEN source = 'local' THEN name ELSE $3 END,
           updated_at = CASE WHEN (email, name) IS DISTINCT FROM ($2, $3) THEN now() ELSE updated_at END
         WHERE id = $1`,
        [userId, display.email, display.name],
      );
    },

    async touchUser(userId: string, q: Queryable = db): Promise<void> {
      await q.query('UPDATE users SET last_seen_at = now() WHERE id = $1', [userId]);
    },

    /**
     * Makes the user's provider-derived memberships exactly `groupIds` (replace) or adds the missing
     * ones (add, used when the token's group list is incomplete). Memberships an admin set by hand
     * are never touched. Returns whether anything changed.
     */
    async syncIdpMemberships(userId: string, groupIds: readonly string[], mode: 'replace' | 'add', q: Queryable = db): Promise<boolean> {
      let changed = 0;
      if (mode === 'replace') {
        const removed = await q.query(`DELETE FROM group_memberships WHERE user_id = $1 AND origin = 'idp' AND NOT (group_id = ANY($2::uuid[]))`, [
          userId,
          groupIds,
        ]);
        changed += removed.rowCount ?? 0;
      }
      if (groupIds.length > 0) {
        const added = await q.query(
          `INSERT INTO group_memberships (group_id, user_id, origin) SELECT g, $1, 'idp' FROM unnest($2::uuid[]) AS g
           ON CONFLICT (group_id, user_id) DO NOTHING`,
          [userId, groupIds],
        );
        changed += added.rowCount ?? 0;
      }
      return changed > 0;
    },
  };
}
export type UserIdentityRepo = ReturnType<typeof createUserIdentityRepo>;
