import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from './circuit-breaker.js';

describe('circuit breaker', () => {
  it('opens after the threshold, lets one trial through after the cooldown, and closes on its success', () => {
    let t = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 2, cooldownMs: 100, maxCooldownMs: 1000, now: () => t });
    expect(breaker.allow()).toBe(true);
    breaker.failure();
    expect(breaker.state()).toBe('closed');
    breaker.failure();
    expect(breaker.state()).toBe('open');
    expect(breaker.allow()).toBe(false);
    t = 100;
    expect(breaker.state()).toBe('half-open');
    expect(breaker.allow()).toBe(true);
    expect(breaker.allow()).toBe(false); // one trial at a time
    breaker.success();
    expect(breaker.state()).toBe('closed');
    expect(breaker.failures()).toBe(0);
  });

  it('doubles the cooldown after a failed trial, up to the maximum', () => {
    let t = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 100, maxCooldownMs: 250, now: () => t });
    breaker.failure();
    t = 100;
    expect(breaker.allow()).toBe(true);
    breaker.failure(); // trial failed: 200 ms now
    t = 299;
    expect(breaker.allow()).toBe(false);
    t = 300;
    expect(breaker.allow()).toBe(true);
    breaker.failure(); // 400 capped to 250
    t = 549;
    expect(breaker.allow()).toBe(false);
    t = 550;
    expect(breaker.allow()).toBe(true);
  });

  it('an abandoned trial does not keep the breaker open', () => {
    let t = 0;
    const breaker = createCircuitBreaker({ failureThreshold: 1, cooldownMs: 10, maxCooldownMs: 10, now: () => t });
    breaker.failure();
    t = 10;
    expect(breaker.allow()).toBe(true);
    breaker.abandon();
    expect(breaker.allow()).toBe(true);
  });
});
