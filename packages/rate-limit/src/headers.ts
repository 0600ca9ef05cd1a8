import type { RateLimitResult } from './rate-limiter.js';

/**
 * RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10) and, when the
 * request is refused, Retry-After in whole seconds (never earlier than the RateLimit `t`).
 */
export function rateLimitHeaders(policy: string, windowSec: number, r: RateLimitResult): Record<string, string> {
  const seconds = Math.max(1, Math.ceil(r.resetMs / 1000));
  const headers: Record<string, string> = {
    'ratelimit-policy': `"${policy}";q=${r.limit};w=${windowSec}`,
    ratelimit: `"${policy}";r=${r.remaining};t=${seconds}`,
  };
  if (!r.allowed) headers['retry-after'] = String(seconds);
  return headers;
}
