import type { RateLimitResult } from './rate-limiter.js';

/**
 * RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10) and, when the
 * request is refused, Retry-After in whole seconds (never earlier than the RateLimit `t`).
 */
export function rateLimitHeaders(policy: string, windowSec: number, r: RateLimitResult): Record<string, string> {
  const seconds = Math.max(1, Math.ceil(r.resetMs / 1000));
  // A Structured-Field String: printable ASCII, with `"` and `\` escaped.
  const name = `"${policy.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, (c) => `\\${c}`)}"`;
  const headers: Record<string, string> = {
    'ratelimit-policy': `${name};q=${r.limit};w=${windowSec}`,
    ratelimit: `${name};r=${r.remaining};t=${seconds}`,
  };
  if (!r.allowed) headers['retry-after'] = String(seconds);
  return headers;
}

/**
 * Several policies in one response: both fields are Structured-Field Lists, so their items are
 * joined; Retry-After is the longest wait of any refusing policy.
 */
export function combineRateLimitHeaders(parts: readonly Record<string, string>[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of ['ratelimit-policy', 'ratelimit'] as const) {
    const items = parts.map((p) => p[field]).filter((v): v is string => v !== undefined);
    if (items.length > 0) out[field] = items.join(', ');
  }
  const waits = parts.map((p) => Number(p['retry-after'] ?? 0)).filter((n) => n > 0);
  if (waits.length > 0) out['retry-after'] = String(Math.max(...waits));
  return out;
}
