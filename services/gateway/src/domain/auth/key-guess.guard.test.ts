import { describe, expect, it } from 'vitest';
import { silentLogger } from '@mcpgw/test-support';
import { createRateLimiter, type RateLimiter } from '@mcpgw/rate-limit';
import { createKeyGuessGuard, keyPrefixOf } from './key-guess.guard.js';

const limiter = (name: string, points: number) => createRateLimiter({ name, points, durationSec: 60, logger: silentLogger('test') });
const key = (prefix: string, n: number) => `${prefix}${String(n).padStart(49 - prefix.length, 'x')}`;

describe('key guess guard', () => {
  it('lets an address make its budget of attempts, then refuses with the time left in the window', async () => {
    const guard = createKeyGuessGuard({ ip: limiter('ip', 3), prefix: limiter('prefix', 100) });
    for (let i = 0; i < 3; i++) expect(await guard.attempt(key('mcpgw_a', i), '10.0.0.1')).toEqual({ go: true });
    const verdict = await guard.attempt(key('mcpgw_a', 9), '10.0.0.1');
    expect(verdict).toMatchObject({ go: false, why: 'throttled' });
    expect(verdict.go === false && verdict.why === 'throttled' && verdict.retryAfterSec).toBeGreaterThanOrEqual(59);
    expect(await guard.attempt(key('mcpgw_a', 9), '10.0.0.2')).toEqual({ go: true });
  });

  it('gives the counts back when the key exists: a real key never spends a budget', async () => {
    const guard = createKeyGuessGuard({ ip: limiter('ip', 2), prefix: limiter('prefix', 2) });
    for (let i = 0; i < 10; i++) {
      expect(await guard.attempt(key('mcpgw_Real00', 1), '10.0.0.1')).toEqual({ go: true });
      await guard.existed(key('mcpgw_Real00', 1), '10.0.0.1');
    }
  });

  it('once a prefix is spent, refuses addresses that guessed wrong and serves those that did not', async () => {
    const guard = createKeyGuessGuard({ ip: limiter('ip', 100), prefix: limiter('prefix', 2) });
    await guard.attempt(key('mcpgw_Target', 1), '10.0.0.1');
    await guard.attempt(key('mcpgw_Target', 2), '10.0.0.2');
    expect(await guard.attempt(key('mcpgw_Target', 3), '10.0.0.1')).toMatchObject({ go: false, why: 'throttled' });
    expect(await guard.attempt(key('mcpgw_Target', 3), '10.0.0.3')).toEqual({ go: true });
    expect(await guard.attempt(key('mcpgw_Other1', 3), '10.0.0.1')).toEqual({ go: true });
  });

  it('fails closed when an attempt cannot be counted', async () => {
    const down: RateLimiter = {
      ...limiter('down', 10),
      failClosed: true,
      consume: async () => ({ allowed: false, unavailable: true, limit: 10, remaining: 0, resetMs: 1000, store: 'insurance' }),
    };
    const guard = createKeyGuessGuard({ ip: down, prefix: limiter('prefix', 10) });
    expect(await guard.attempt(key('mcpgw_a', 1), '10.0.0.1')).toEqual({ go: false, why: 'unavailable' });
  });

  it('names a key by its first 12 characters, as the admin portal shows it', () => {
    expect(keyPrefixOf('mcpgw_AbC123secretsecret')).toBe('mcpgw_AbC123');
  });
});
