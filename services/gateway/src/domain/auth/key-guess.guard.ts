import type { RateLimiter, RateLimitResult } from '@mcpgw/rate-limit';

/** What the guard says about an attempt with a key not known to exist. */
export type GuessVerdict = { go: true } | { go: false; why: 'throttled'; retryAfterSec: number } | { go: false; why: 'unavailable' };

/** The part of a key that names it without revealing it (`mcpgw_` and 6 characters, as shown in the admin portal). */
export function keyPrefixOf(key: string): string {
  return key.slice(0, 12);
}

/**
 * Bounds API-key guessing (test-matrix A3). Only keys that turn out not to exist count: once
 * against the client IP, once against the key's prefix. Real keys never count, so a burst of
 * legitimate first requests (many users behind one address) spends nothing.
 *
 * Refused with 429: every attempt from an address beyond its budget of the window; and, once a
 * prefix is beyond its budget, attempts on it from addresses that have already guessed wrong. A
 * guesser spread over many addresses then gets one guess per address, while the key's owner,
 * whose address has not failed, is never locked out by strangers who know the prefix (it is shown
 * in the admin portal). Spent budgets refuse before any lookup (`check`); the count after a failed
 * lookup (`failed`) decides between 401 and 429 on one atomic increment, so exactly the budget's
 * worth of guesses is answered 401 however many run at once.
 *
 * Both counters live in Redis when there is one, and the guard fails closed: when they cannot be
 * read or counted, the attempt is refused with 503 (with N instances an in-process fallback would
 * allow N times the budget).
 */
export function createKeyGuessGuard(limiters: { ip: RateLimiter; prefix: RateLimiter }) {
  const throttled = (r: RateLimitResult): GuessVerdict => ({ go: false, why: 'throttled', retryAfterSec: Math.max(1, Math.ceil(r.resetMs / 1000)) });
  /** `before`: failures counted before this attempt; within budget `remaining` is exact. */
  const verdictOf = (ip: RateLimitResult, prefix: RateLimitResult, spent: (r: RateLimitResult) => boolean, before: number): GuessVerdict => {
    if (ip.unavailable || prefix.unavailable) return { go: false, why: 'unavailable' };
    if (spent(ip)) return throttled(ip);
    if (spent(prefix) && before > 0) return throttled(prefix);
    return { go: true };
  };
  return {
    /** Before the lookup: whether the budgets leave room for one more guess (reads the counts, adds nothing). */
    async check(key: string, clientIp: string): Promise<GuessVerdict> {
      const [ip, prefix] = await Promise.all([limiters.ip.consume(clientIp, 0), limiters.prefix.consume(keyPrefixOf(key), 0)]);
      return verdictOf(ip, prefix, (r) => !r.allowed || r.remaining <= 0, ip.limit - ip.remaining);
    },
    /** The key does not exist: one guess against both budgets; go means "answer 401", else 429 or 503. */
    async failed(key: string, clientIp: string): Promise<GuessVerdict> {
      const [ip, prefix] = await Promise.all([limiters.ip.consume(clientIp), limiters.prefix.consume(keyPrefixOf(key))]);
      return verdictOf(ip, prefix, (r) => !r.allowed, ip.limit - ip.remaining - 1);
    },
  };
}
export type KeyGuessGuard = ReturnType<typeof createKeyGuessGuard>;
