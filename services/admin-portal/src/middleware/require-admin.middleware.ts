import type { NextFunction, Request, Response } from 'express';
import type { TenantScopeRepo } from '@mcpgw/db';
import { AppError, identityOf, type SecurityEventRecorder } from '@mcpgw/http';
import { resolveAdminScope, type AdminScope } from '../domain/admin-scope.js';

const scopes = new WeakMap<Request, AdminScope>();

/** The scope requireAdmin decided for this request (every route behind it may ask). */
export function scopeOf(req: Request): AdminScope {
  const scope = scopes.get(req);
  if (!scope) throw new AppError('INTERNAL', 'admin scope asked for before requireAdmin ran');
  return scope;
}

function refuse(security: SecurityEventRecorder, req: Request, reason: string): void {
  const identity = identityOf(req);
  security.record({ kind: 'forbidden', reason, userId: identity.userId, userEmail: identity.email, requestId: req.requestId, details: { path: req.path, method: req.method } });
}

/**
 * Only admins pass; everyone else gets 403 on every page and API route, and an event is kept. The
 * admin's scope (global, or the tenants of its admin groups) is decided here, once per request,
 * and read by every route with scopeOf(req).
 */
export function requireAdmin(security: SecurityEventRecorder, repo: Pick<TenantScopeRepo, 'adminGroups' | 'directAdmin'>) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    resolveAdminScope(identityOf(req), repo).then((scope) => {
      if (scope) {
        scopes.set(req, scope);
        next();
        return;
      }
      refuse(security, req, 'admin portal requires an admin');
      next(new AppError('FORBIDDEN', 'The admin portal is for admins only'));
    }, next);
  };
}

/** For the shared registry (servers, signing keys, mappings, rules, tenants, security events): 403 for tenant admins. */
export function requireGlobalAdmin(security: SecurityEventRecorder) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (scopeOf(req).kind === 'global') {
      next();
      return;
    }
    refuse(security, req, 'a tenant admin asked for a global-only admin route');
    next(new AppError('FORBIDDEN', 'This part of the admin API is for global admins only'));
  };
}
