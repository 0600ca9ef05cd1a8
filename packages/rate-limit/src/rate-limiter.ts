import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from 'ioredis';
import type { Logger } from '@mcpgw/logger';

export interface RateLimitResult {
  allowed: boolean;
  /** The policy's quota per window. */
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets (or until the block ends). */
  resetMs: number;
}

export interface RateLimiter {
  /** Policy name used in the RateLimit-Policy header ("user", "ip", …). */
  readonly name: string;
  readonly points: number;
  readonly durationSec: number;
  /** `shared` when counters live in Redis, `local` when in this process. */
  readonly store: 'shared' | 'local';
  consume(key: string, points?: number): Promise<RateLimitResult>;
}

export interface RateLimiterOptions {
  name: string;
  points: number;
  durationSec: number;
  /** Redis client for counters shared by every instance; absent: in-process counters. */
  redis?: Redis | null;
  keyPrefix?: string;
  logger: Logger;
}

/**
 * A fixed-window limiter. With Redis, counters are shared by every instance, and an in-memory
 * insurance limiter with the same policy answers whenever Redis errors or is not ready; without
 * Redis, counters live in this process only.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { name, points, durationSec, logger } = options;
  const keyPrefix = `${options.keyPrefix ?? 'mcpgw:rl'}:${name}`;
  const memory = new RateLimiterMemory({ points, duration: durationSec, keyPrefix });
  const limiter = options.redis
    ? new RateLimiterRedis({
        storeClient: options.redis,
        points,
        duration: durationSec,
        keyPrefix,
        insuranceLimiter: memory,
        rejectIfRedisNotReady: true,
      })
    : memory;

  const result = (res: RateLimiterRes, allowed: boolean): RateLimitResult => ({
    allowed,
    limit: points,
    remaining: Math.max(0, res.remainingPoints),
    resetMs: Math.max(0, res.msBeforeNext),
  });

  return {
    name,
    points,
    durationSec,
    store: options.redis ? 'shared' : 'local',
    async consume(key, cost = 1) {
      try {
        return result(await limiter.consume(key, cost), true);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) return result(rejection, false);
        // Both the store and the insurance failed: let the request through and say so.
        logger.error('rate limiter failed; request allowed', { limiter: name, err: (rejection as Error)?.message });
        return { allowed: true, limit: points, remaining: points, resetMs: durationSec * 1000 };
      }
    },
  };
}
