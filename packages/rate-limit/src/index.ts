export { createRateLimiter, type RateLimiter, type RateLimitResult, type RateLimiterOptions } from './rate-limiter.js';
export { createRedisClient, type RedisClient } from './redis-client.js';
export { rateLimitHeaders } from './headers.js';
