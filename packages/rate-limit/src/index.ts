export {
  createRateLimiter,
  withDeadline,
  type RateLimiter,
  type RateLimitResult,
  type RateLimiterOptions,
  type RateLimitDecision,
  type DecisionOutcome,
  type DecisionStore,
  type LimiterStats,
} from './rate-limiter.js';
export { createRuleLimiters, type LimitRule, type RuleLimiters, type RuleLimitersOptions } from './rule-limiters.js';
export { createPolledSnapshot, type PolledSnapshot, type PolledSnapshotOptions } from './polled-snapshot.js';
export { createRedisClient, redisHealth, waitUntilReady, type RedisClient, type RedisClientOptions, type RedisHealth } from './redis-client.js';
export { rateLimitHeaders, combineRateLimitHeaders } from './headers.js';
