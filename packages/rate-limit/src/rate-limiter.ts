import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { Logger } from '@mcpgw/logger';
import { redisHealth } from './redis-client.js';

/** Which counters answered: Redis, the in-process insurance while Redis failed, or in-process only. */
export type DecisionStore = 'redis' | 'insurance' | 'memory';

/** allowed; limited (over budget: 429); unavailable (a fail-closed limiter could not count: 503). */
export type DecisionOutcome = 'allowed' | 'limited' | 'unavailable';

export interface RateLimitResult {
  allowed: boolean;
  /** The policy's quota per window. */
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets (or until the block ends). */
  resetMs: number;
  /** True when a fail-closed limiter refused because its store failed (answer 503, not 429). */
  unavailable?: boolean;
  store: DecisionStore;
}

export interface RateLimitDecision {
  limiter: string;
  outcome: DecisionOutcome;
  store: DecisionStore;
}

/** Decisions since start, per outcome, and how many of them the insurance limiter answered. */
export interface LimiterStats {
  allowed: number;
  limited: number;
  unavailable: number;
  insurance: number;
}

export interface RateLimiter {
  /** Policy name used in the RateLimit-Policy header ("user", "ip", …). */
  readonly name: string;
  readonly points: number;
  readonly durationSec: number;
  /** `shared` when counters live in Redis, `local` when in this process. */
  readonly store: 'shared' | 'local';
  /** Refuses (unavailable) instead of falling back to in-process counters when Redis fails. */
  readonly failClosed: boolean;
  consume(key: string, points?: number): Promise<RateLimitResult>;
  /** The key's current count without consuming; null when the key has no count this window. */
  peek(key: string): Promise<{ consumed: number; remaining: number; resetMs: number } | null>;
  stats(): LimiterStats;
}

export interface RateLimiterOptions {
  name: string;
  points: number;
  durationSec: number;
  /** Redis client for counters shared by every instance; absent: in-process counters. */
  redis?: Redis | null;
  keyPrefix?: string;
  logger: Logger;
  /**
   * For security limiters (login, brute force): when Redis fails, refuse with `unavailable`
   * instead of counting in process, where N instances would allow N times the budget.
   */
  failClosed?: boolean;
  /** Called once per decision (metrics). */
  onDecision?: (decision: RateLimitDecision) => void;
  /** Longest a decision waits on Redis before the insurance counters answer; default 50 ms. */
  redisTimeoutMs?: number;
}

/**
 * Rejects when `promise` has not settled `ms` after the call. The check runs after one more turn of
 * the event loop's I/O phase, so a busy process whose timers fire late still reads an answer that
 * has already arrived instead of calling a healthy Redis slow (a plain timer would, under load).
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        reject(new Error(`no answer within ${ms} ms`));
      });
    }, ms);
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * A fixed-window limiter. With Redis, counters are shared by every instance; whenever Redis errors
 * or is not ready, an in-process insurance limiter with the same policy answers (each instance then
 * counts on its own), or, for a fail-closed limiter, the request is refused as unavailable. The
 * insurance is ours rather than the library's `insuranceLimiter`, so each decision says which store
 * made it. Without Redis, counters live in this process only.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { name, points, durationSec, logger } = options;
  const failClosed = options.failClosed ?? false;
  const keyPrefix = `${options.keyPrefix ?? 'mcpgw:rl'}:${name}`;
  const memory = new RateLimiterMemory({ points, duration: durationSec, keyPrefix });
  const redis = options.redis
    ? new RateLimiterRedis({ storeClient: options.redis, points, duration: durationSec, keyPrefix, rejectIfRedisNotReady: true })
    : null;
  const health = options.redis ? redisHealth(options.redis) : null;
  const counts: LimiterStats = { allowed: 0, limited: 0, unavailable: 0, insurance: 0 };

  const decide = (result: RateLimitResult): RateLimitResult => {
    const outcome: DecisionOutcome = result.allowed ? 'allowed' : result.unavailable ? 'unavailable' : 'limited';
    counts[outcome] += 1;
    if (result.store === 'insurance') counts.insurance += 1;
    options.onDecision?.({ limiter: name, outcome, store: result.store });
    return result;
  };

  const fromRes = (res: RateLimiterRes, allowed: boolean, store: DecisionStore): RateLimitResult => ({
    allowed,
    limit: points,
    remaining: Math.max(0, res.remainingPoints),
    resetMs: Math.max(0, res.msBeforeNext),
    store,
  });

  const redisTimeoutMs = options.redisTimeoutMs ?? 50;

  async function consumeIn(limiter: RateLimiterMemory | RateLimiterRedis, store: DecisionStore, key: string, cost: number): Promise<RateLimitResult> {
    try {
      const pending = limiter.consume(key, cost);
      return fromRes(await (store === 'redis' ? withDeadline(pending, redisTimeoutMs) : pending), true, store);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return fromRes(rejection, false, store);
      throw rejection;
    }
  }

  return {
    name,
    points,
    durationSec,
    store: redis ? 'shared' : 'local',
    failClosed,
    async consume(key, cost = 1) {
      if (!redis || !health) return decide(await consumeIn(memory, 'memory', key, cost));
      if (health.usable()) {
        health.begin();
        try {
          const result = await consumeIn(redis, 'redis', key, cost);
          health.succeeded();
          return decide(result);
        } catch (err) {
          // Redis refused, reset or timed out: skip it for a moment (logged once per outage).
          health.failed(err);
        }
      }
      // Redis not usable: the insurance counters of this process decide (a fail-closed limiter refuses).
      if (failClosed) return decide({ allowed: false, unavailable: true, limit: points, remaining: 0, resetMs: 1_000, store: 'insurance' });
      try {
        return decide(await consumeIn(memory, 'insurance', key, cost));
      } catch (err) {
        // Cannot happen with in-process counters; if it does, let the request through and say so.
        logger.error('rate limiter failed; request allowed', { limiter: name, err: (err as Error)?.message });
        return decide({ allowed: true, limit: points, remaining: points, resetMs: durationSec * 1000, store: 'insurance' });
      }
    },
    async peek(key) {
      let res: RateLimiterRes | null = null;
      try {
        res = redis && health?.usable() ? await redis.get(key) : await memory.get(key);
      } catch {
        res = await memory.get(key);
      }
      if (!res) return null;
      return { consumed: res.consumedPoints, remaining: Math.max(0, points - res.consumedPoints), resetMs: Math.max(0, res.msBeforeNext) };
    },
    stats: () => ({ ...counts }),
  };
}
