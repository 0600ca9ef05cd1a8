import type { RateLimiter, RateLimitResult } from '@mcpgw/rate-limit';

/** What the guard says before a key not known to exist is looked up. */
export type GuessVerdict = { go: true } | { go: false; why: 'throttled'; retryAfterSec: number } | { go: false; why: 'unavailable' };

/** The part of a key that names it without revealing it (`mcpgw_` and 6 characters, as shown in the admin portal). */
export function keyPrefixOf(key: string): string {
  return key.slice(0, 12);
}

/**
 * Bounds API-key guessing (test-matrix A3). Every attempt with a key not known to exist counts,
 * before the lookup, once against the client IP and once against the key's prefix; when the key
 * turns out to exist the two counts are given back, so real keys never spend a budget. Counting
 * first (one atomic increment per counter) keeps the bound exact under concurrency and when Redis
 * answers late: a guess that could not be counted is not looked up.
 *
 * Refused with 429 (before any lookup): every attempt from an address beyond its budget of the
 * window; and, once a prefix is beyond its budget, attempts on it from addresses that have already
 * guessed wrong. A guesser spread over many addresses then gets one guess per address, while the
 * key's owner, whose address has not failed, is never locked out by strangers who know the prefix
 * (it is shown in the admin portal).
 *
 * Both counters live in Redis when there is one, and the guard fails closed: when they cannot be
 * counted, the attempt is refused with 503 rather than looked up uncounted (with N instances an
 * in-process fallback would allow N times the budget).
 */
export function createKeyGuessGuard(limiters: { ip: RateLimiter; prefix: RateLimiter }) {
  const throttled = (r: RateLimitResult): GuessVerdict => ({ go: false, why: 'throttled', retryAfterSec: Math.max(1, Math.ceil(r.resetMs / 1000)) });
  return {
    /** Counts an attempt with a key not known to exist, and says whether it may be looked up. */
    async attempt(key: string, clientIp: string): Promise<GuessVerdict> {
      const [ip, prefix] = await Promise.all([limiters.ip.consume(clientIp), limiters.prefix.consume(keyPrefixOf(key))]);
      if (ip.unavailable || prefix.unavailable) return { go: false, why: 'unavailable' };
      if (!ip.allowed) return throttled(ip);
      // Within budget, `remaining` is exact: attempts so far, this one included, are limit - remaining.
      const earlierFailures = ip.limit - ip.remaining - 1;
      if (!prefix.allowed && earlierFailures > 0) return throttled(prefix);
      return { go: true };
    },
    /** The key of a counted attempt exists: give the two counts back. */
    async existed(key: string, clientIp: string): Promise<void> {
      await Promise.all([limiters.ip.consume(clientIp, -1), limiters.prefix.consume(keyPrefixOf(key), -1)]);
    },
  };
}
export type KeyGuessGuard = ReturnType<typeof createKeyGuessGuard>;
