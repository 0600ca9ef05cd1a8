import type { RateLimiter, RateLimitResult } from '@mcpgw/rate-limit';

/** What the guard says before an unknown key is looked up. */
export type GuessVerdict = { go: true } | { go: false; why: 'throttled'; retryAfterSec: number } | { go: false; why: 'unavailable' };

/** The part of a key that names it without revealing it (`mcpgw_` and 6 characters, as shown in the admin portal). */
export function keyPrefixOf(key: string): string {
  return key.slice(0, 12);
}

/**
 * Bounds API-key guessing (test-matrix A3): every key that does not exist counts once against the
 * client IP and once against the key's prefix. Keys not known to be real are refused with 429
 * before any lookup when the address has spent its budget of the window, or when the prefix has
 * spent its budget and the address has guessed wrong at least once: a guesser spread over many
 * addresses then gets one guess per address, while the key's owner, whose address has not failed,
 * is never locked out by strangers who know the prefix (it is shown in the admin portal). Real keys
 * never count, so a legitimate caller spends nothing.
 *
 * Both counters live in Redis when there is one, and the guard fails closed: when they cannot be
 * read, a key not known to be real is refused with 503 rather than looked up uncounted (with N
 * instances an in-process fallback would allow N times the budget).
 */
export function createKeyGuessGuard(limiters: { ip: RateLimiter; prefix: RateLimiter }) {
  /** A budget is spent when nothing remains of it (consume with 0 points reads the count, adding nothing). */
  const spent = (r: RateLimitResult) => !r.allowed || r.remaining <= 0;
  const throttled = (over: RateLimitResult[]): GuessVerdict => ({
    go: false,
    why: 'throttled',
    retryAfterSec: Math.max(1, ...over.map((r) => Math.ceil(r.resetMs / 1000))),
  });
  return {
    /** Whether a key not known to be real may be looked up now for this address. */
    async before(key: string, clientIp: string): Promise<GuessVerdict> {
      const [ip, prefix] = await Promise.all([limiters.ip.consume(clientIp, 0), limiters.prefix.consume(keyPrefixOf(key), 0)]);
      if (ip.unavailable || prefix.unavailable) return { go: false, why: 'unavailable' };
      if (spent(ip)) return throttled([ip]);
      const ipHasFailed = ip.remaining < ip.limit;
      if (spent(prefix) && ipHasFailed) return throttled([prefix]);
      return { go: true };
    },
    /** A key that does not exist was tried: one guess against both budgets. */
    async failed(key: string, clientIp: string): Promise<void> {
      await Promise.all([limiters.ip.consume(clientIp), limiters.prefix.consume(keyPrefixOf(key))]);
    },
  };
}
export type KeyGuessGuard = ReturnType<typeof createKeyGuessGuard>;
