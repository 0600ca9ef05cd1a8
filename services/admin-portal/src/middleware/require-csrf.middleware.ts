import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError, identityOf } from '@mcpgw/http';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Callers that send their credential on every request themselves (never a browser's ambient cookie). */
const HEADER_ONLY_METHODS = new Set(['apikey', 'm2m']);
const LIFETIME_MS = 12 * 3_600_000;

/** CSRF tokens bound to one user: `<issued ms>.<HMAC(secret, "csrf:" user ":" issued)>`, valid 12 hours. */
export function createCsrfTokens(secret: string) {
  const mac = (userId: string, issued: string) => createHmac('sha256', secret).update(`csrf:${userId}:${issued}`).digest('base64url');
  return {
    issue(userId: string, now = Date.now()): string {
      return `${now}.${mac(userId, String(now))}`;
    },
    verify(userId: string, token: string, now = Date.now()): boolean {
      const [issued, given] = token.split('.');
      if (!issued || !given || !/^\d{1,15}$/.test(issued)) return false;
      const age = now - Number(issued);
      if (age < -60_000 || age > LIFETIME_MS) return false;
      const expected = Buffer.from(mac(userId, issued));
      const actual = Buffer.from(given);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
  };
}
export type CsrfTokens = ReturnType<typeof createCsrfTokens>;

/**
 * Writes by a signed-in browser user (Open WebUI session cookie, local or Entra token) need the
 * CSRF token the portal page carries, in X-CSRF-Token. API-key and M2M callers are exempt: their
 * credential is never sent by a browser on its own.
 */
export function requireCsrf(tokens: CsrfTokens) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const identity = identityOf(req);
    if (SAFE.has(req.method) || HEADER_ONLY_METHODS.has(identity.authMethod)) {
      next();
      return;
    }
    const token = req.headers[CSRF_HEADER];
    if (typeof token === 'string' && tokens.verify(identity.userId, token)) {
      next();
      return;
    }
    next(new AppError('FORBIDDEN', 'Missing or invalid CSRF token: reload the page (API clients: send the X-CSRF-Token from GET /mcp-admin/api/csrf)'));
  };
}
