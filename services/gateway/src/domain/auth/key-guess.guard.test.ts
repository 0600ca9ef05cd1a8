import { describe, expect, it } from 'vitest';
import { silentLogger } from '@mcpgw/test-support';
import { createRateLimiter, type RateLimiter } from '@mcpgw/rate-limit';
import { createKeyGuessGuard, keyPrefixOf } from './key-guess.guard.js';

const limiter = (name: string, points: number) => createRateLimiter({ name, points, durationSec: 60, logger: silentLogger('test') });
const key = (prefix: string, n: number) => `${prefix}${String(n).padStart(49 - prefix.length, 'x')}`;

describe('key guess guard', () => {
  it('lets an address fail its budget of guesses, then refuses before the lookup with the time left in the window', async () => {
    const guard = createKeyGuessGuard({ ip: limiter('ip', 3), prefix: limiter('prefix', 100) });
    for (let i = 0; i < 3; i++) {
      expect(await guard.check(key('mcpgw_a', i), '10.0.0.1')).toEqual({ go: true });
      expect(await guard.failed(key('mcpgw_a', i), '10.0.0.1')).toEqual({ go: true });
    }
    const verdict = await guard.check(key('mcpgw_a', 9), '10.0.0.1');
    expect(verdict).toMatchObject({ go: false, why: 'throttled' });
    expect(verdict.go === false && verdict.why === 'throttled' && verdict.retryAfterSec).toBeGreaterThanOrEqual(59);
    expect(await guard.check(key('mcpgw_a', 9), '10.0.0.2')).toEqual({ go: true });
  });

  it('answers exactly the budget of concurrent failed guesses with go (401), the rest throttled (429)', async () => {
    const guard = createKeyGuessGuard({ ip: limiter('ip', 20), prefix: limiter('prefix', 1000) });
    const checks = await Promise.all(Array.from({ length: 50 }, (_, i) => guard.check(key('mcpgw_c', i), '10.0.0.9')));
    expect(checks.every((v) => v.go)).toBe(true); // checks count nothing
    const verdicts = await Promise.all(Array.from({ length: 50 }, (_, i) => guard.failed(key('mcpgw_c', i), '10.0.0.9')));
    expect(verdicts.filter((v) => v.go).length).toBe(20);
  });

  it('once a prefix is spent, refuses addresses that guessed wrong and serves those that did not', async () => {
    const guard = createKeyGuessGuard({ ip: limiter('ip', 100), prefix: limiter('prefix', 2) });
    await guard.failed(key('mcpgw_Target', 1), '10.0.0.1');
    await guard.failed(key('mcpgw_Target', 2), '10.0.0.2');
    expect(await guard.check(key('mcpgw_Target', 3), '10.0.0.1')).toMatchObject({ go: false, why: 'throttled' });
    expect(await guard.check(key('mcpgw_Target', 3), '10.0.0.3')).toEqual({ go: true });
    expect(await guard.failed(key('mcpgw_Target', 3), '10.0.0.3')).toEqual({ go: true }); // its first failure: answered 401
    expect(await guard.check(key('mcpgw_Target', 4), '10.0.0.3')).toMatchObject({ go: false, why: 'throttled' });
    expect(await guard.check(key('mcpgw_Other1', 3), '10.0.0.1')).toEqual({ go: true });
  });

  it('fails closed when the counts cannot be read or written', async () => {
    const down: RateLimiter = {
      ...limiter('down', 10),
      failClosed: true,
      consume: async () => ({ allowed: false, unavailable: true, limit: 10, remaining: 0, resetMs: 1000, store: 'insurance' }),
    };
    const guard = createKeyGuessGuard({ ip: down, prefix: limiter('prefix', 10) });
    expect(await guard.check(key('mcpgw_a', 1), '10.0.0.1')).toEqual({ go: false, why: 'unavailable' });
    expect(await guard.failed(key('mcpgw_a', 1), '10.0.0.1')).toEqual({ go: false, why: 'unavailable' });
  });

  it('names a key by its first 12 characters, as the admin portal shows it', () => {
    expect(keyPrefixOf('mcpgw_AbC123secretsecret')).toBe('mcpgw_AbC123');
  });
});
