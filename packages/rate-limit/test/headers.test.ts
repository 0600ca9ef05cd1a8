import { describe, expect, it } from 'vitest';
import { rateLimitHeaders, type RateLimitResult } from '../src/index.js';

const result = (r: Partial<RateLimitResult>): RateLimitResult => ({ allowed: true, limit: 100, remaining: 99, resetMs: 60_000, store: 'memory', ...r });

/** Parses `"name";k=v;k=v` into its name and integer parameters. */
function field(value: string): { name: string; params: Record<string, number> } {
  const [name, ...params] = value.split(';');
  return {
    name: name!,
    params: Object.fromEntries(params.map((p) => [p.split('=')[0]!, Number(p.split('=')[1])])),
  };
}

describe('rateLimitHeaders', () => {
  it('describes the policy as "name";q=<quota>;w=<window seconds>', () => {
    const h = rateLimitHeaders('user', 60, result({}));
    expect(h['ratelimit-policy']).toBe('"user";q=100;w=60');
  });

  it('reports remaining and seconds to reset as "name";r=…;t=…', () => {
    const h = rateLimitHeaders('user', 60, result({ remaining: 42, resetMs: 30_000 }));
    expect(h.ratelimit).toBe('"user";r=42;t=30');
  });

  it('uses the policy name and quota it is given', () => {
    const h = rateLimitHeaders('ip', 10, result({ limit: 5, remaining: 3 }));
    expect(h['ratelimit-policy']).toBe('"ip";q=5;w=10');
    expect(h.ratelimit!.startsWith('"ip";r=3;')).toBe(true);
  });

  it('has no Retry-After while the request is allowed', () => {
    const h = rateLimitHeaders('user', 60, result({ allowed: true, remaining: 0, resetMs: 5_000 }));
    expect(h).not.toHaveProperty('retry-after');
    expect(Object.keys(h).sort()).toEqual(['ratelimit', 'ratelimit-policy']);
  });

  it.each([
    [1, 1],
    [999, 1],
    [1_000, 1],
    [1_001, 2],
    [59_999, 60],
    [60_000, 60],
    [0, 1],
  ])('when refused with resetMs=%i, Retry-After is %i whole seconds', (resetMs, seconds) => {
    const h = rateLimitHeaders('user', 60, result({ allowed: false, remaining: 0, resetMs }));
    expect(h['retry-after']).toBe(String(seconds));
    expect(h['retry-after']).toMatch(/^[1-9]\d*$/);
  });

  it('never lets t fall below Retry-After, and never rounds the wait down', () => {
    for (let resetMs = 0; resetMs <= 125_000; resetMs += 137) {
      const h = rateLimitHeaders('user', 60, result({ allowed: false, remaining: 0, resetMs }));
      const retryAfter = Number(h['retry-after']);
      const t = field(h.ratelimit!).params.t!;
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter * 1000).toBeGreaterThanOrEqual(resetMs);
      expect(t).toBeGreaterThanOrEqual(retryAfter);
    }
  });

  it('states r=0 when refused', () => {
    const h = rateLimitHeaders('user', 60, result({ allowed: false, remaining: 0, resetMs: 2_500 }));
    expect(field(h.ratelimit!)).toEqual({ name: '"user"', params: { r: 0, t: 3 } });
  });
});
