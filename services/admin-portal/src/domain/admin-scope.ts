import type { Identity } from '@mcpgw/identity';
import type { TenantScopeRepo } from '@mcpgw/db';
import { AppError } from '@mcpgw/http';

/**
 * What an admin may see and change. A global admin: everything. A tenant admin (every admin group
 * it is in belongs to a tenant): only the users, groups, memberships, grants, API keys, M2M
 * clients, blocks, tenant keys and tenant endpoints of those tenants, and analytics and audit
 * filtered to them; the shared registry (servers, signing keys, identity-provider mappings,
 * rate-limit rules, tenants, security events) is for global admins only.
 */
export type AdminScope = { kind: 'global' } | { kind: 'tenant'; tenants: readonly string[] };

export interface ScopeFacts {
  /** The admin groups among the identity's groups, with their tenant (null: global). */
  adminGroups: readonly { tenantId: string | null }[];
  /** The user's own admin flag (users.is_admin); null when the user does not exist. */
  directAdmin: boolean | null;
}

/**
 * The one decision of an admin's scope, from the signed identity and the facts the database holds
 * about its groups. null: not an admin (any more). Direct admins and members of a global admin
 * group are global; members of tenant admin groups only are tenant admins of those tenants. An
 * Open WebUI admin (its role makes the admin flag) without an admin group is global, as Open WebUI
 * admins administer the whole deployment. A signed admin flag with no source left in the database
 * (the admin group was deleted, the user removed) is refused rather than widened to global.
 */
export function decideAdminScope(identity: Pick<Identity, 'admin' | 'authMethod'>, facts: ScopeFacts): AdminScope | null {
  if (!identity.admin) return null;
  if (facts.directAdmin === true) return { kind: 'global' };
  if (facts.adminGroups.some((g) => g.tenantId === null)) return { kind: 'global' };
  if (facts.adminGroups.length > 0) return { kind: 'tenant', tenants: [...new Set(facts.adminGroups.map((g) => g.tenantId!))].sort() };
  if (identity.authMethod === 'openwebui') return { kind: 'global' };
  return null;
}

/** Looks the facts up and decides (one query per fact; no caching, so a change applies at once). */
export async function resolveAdminScope(identity: Identity, repo: Pick<TenantScopeRepo, 'adminGroups' | 'directAdmin'>): Promise<AdminScope | null> {
  if (!identity.admin) return null;
  const [adminGroups, directAdmin] = await Promise.all([repo.adminGroups(identity.groups), repo.directAdmin(identity.userId)]);
  return decideAdminScope(identity, { adminGroups, directAdmin });
}

export const isGlobal = (scope: AdminScope): scope is { kind: 'global' } => scope.kind === 'global';

/** True when the scope covers an object of `tenantId` (null: an object of no tenant: global admins only). */
export function coversTenant(scope: AdminScope, tenantId: string | null | undefined): boolean {
  return scope.kind === 'global' || (typeof tenantId === 'string' && scope.tenants.includes(tenantId));
}

/** The tenant filter for list queries: undefined (no filter) for a global admin. */
export const tenantFilter = (scope: AdminScope): readonly string[] | undefined => (scope.kind === 'global' ? undefined : scope.tenants);

/**
 * 404 with the route's own "no such" message when the object is another tenant's: the same answer
 * as for an id that does not exist, so ids cannot be probed across tenants.
 */
export function mustCoverTenant(scope: AdminScope, tenantId: string | null | undefined, notFound: string): void {
  if (!coversTenant(scope, tenantId)) throw new AppError('NOT_FOUND', notFound);
}

/** As mustCoverTenant, for a user by id (its tenant as the gateway resolves it). */
export async function mustCoverUser(scope: AdminScope, repo: Pick<TenantScopeRepo, 'userTenants'>, userId: string, notFound = 'No such user'): Promise<void> {
  if (isGlobal(scope)) return;
  const tenants = await repo.userTenants([userId]);
  if (!coversTenant(scope, tenants.get(userId))) throw new AppError('NOT_FOUND', notFound);
}

/**
 * For changes to a user and for anything that acts as the user (its keys, its password, calls in
 * its name): mustCoverUser, and a tenant admin may not change a global admin who happens to belong
 * to its tenant (a password or an API key for that admin would be a way up to global).
 */
export async function mustManageUser(scope: AdminScope, repo: Pick<TenantScopeRepo, 'userTenants' | 'globalAdmins'>, userId: string, notFound = 'No such user'): Promise<void> {
  if (isGlobal(scope)) return;
  await mustCoverUser(scope, repo, userId, notFound);
  if ((await repo.globalAdmins([userId])).has(userId)) throw new AppError('FORBIDDEN', 'Changing a global admin is for global admins only');
}

/** True when the scope covers the user (a missing user is not covered). */
export async function coversUser(scope: AdminScope, repo: Pick<TenantScopeRepo, 'userTenants'>, userId: string): Promise<boolean> {
  if (isGlobal(scope)) return true;
  return coversTenant(scope, (await repo.userTenants([userId])).get(userId));
}

/** Keeps the items whose user the scope covers (one query for the whole list). */
export async function keepCoveredUsers<T>(scope: AdminScope, repo: Pick<TenantScopeRepo, 'userTenants'>, items: readonly T[], userOf: (item: T) => string | null): Promise<T[]> {
  if (isGlobal(scope)) return [...items];
  const ids = items.map(userOf).filter((id): id is string => id !== null);
  const tenants = await repo.userTenants(ids);
  return items.filter((item) => {
    const id = userOf(item);
    return id !== null && coversTenant(scope, tenants.get(id));
  });
}

/** Tenant admins may not touch what makes admins or maps identities: one message for all of it. */
export function mustBeGlobal(scope: AdminScope, what: string): void {
  if (!isGlobal(scope)) throw new AppError('FORBIDDEN', `${what} is for global admins only`);
}
