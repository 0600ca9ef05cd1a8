import { AppError, type SecurityEventRecorder } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import type { RateLimiter } from '@mcpgw/rate-limit';

/**
 * Bounds password and client-secret guessing: every attempt counts against the account (or M2M
 * client) and against the client IP; over either budget the attempt is refused with 429 before any
 * secret is checked, and a security event says so.
 */
export function createSignInThrottle(options: { account: RateLimiter; ip: RateLimiter; security: SecurityEventRecorder }) {
  return {
    async check(account: string, ctx: { clientIp: string; requestId: string }): Promise<void> {
      const key = account.toLowerCase().slice(0, 200);
      const [byAccount, byIp] = await Promise.all([options.account.consume(key), options.ip.consume(ctx.clientIp)]);
      if (byAccount.unavailable || byIp.unavailable) {
        // The throttle fails closed: without shared counters, N instances would allow N times the budget.
        throw new AppError('SERVICE_UNAVAILABLE', 'Sign-in is temporarily unavailable; try again shortly', { headers: { [HEADER.retryAfter]: '5' } });
      }
      const blocked = !byAccount.allowed ? byAccount : !byIp.allowed ? byIp : null;
      if (!blocked) return;
      const retryAfter = Math.max(1, Math.ceil(blocked.resetMs / 1000));
      options.security.record({
        kind: 'sign-in-throttled',
        reason: !byAccount.allowed ? 'too many attempts for this account' : 'too many attempts from this address',
        clientIp: ctx.clientIp,
        requestId: ctx.requestId,
        details: { account: key },
      });
      throw new AppError('RATE_LIMITED', `Too many sign-in attempts; retry after ${retryAfter} s`, { headers: { [HEADER.retryAfter]: String(retryAfter) } });
    },
  };
}
export type SignInThrottle = ReturnType<typeof createSignInThrottle>;
