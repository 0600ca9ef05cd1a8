import { describe, expect, it } from 'vitest';
import { createListCache } from './list-cache.js';

describe('list cache', () => {
  it('keeps a list for its time, shares a miss, forgets a failure, a target or one kind', async () => {
    let now = 0;
    const cache = createListCache<string[]>(1_000, () => now);
    let loads = 0;
    const load = async () => [`v${++loads}`];
    expect(await Promise.all([cache.get('a', 'tools', load), cache.get('a', 'tools', load)])).toEqual([['v1'], ['v1']]);
    now = 999;
    expect(await cache.get('a', 'tools', load)).toEqual(['v1']);
    now = 1_000;
    expect(await cache.get('a', 'tools', load)).toEqual(['v2']);
    await cache.get('a', 'prompts', load);
    cache.forget('a', 'tools');
    expect(await cache.get('a', 'prompts', load)).toEqual(['v3']);
    expect(await cache.get('a', 'tools', load)).toEqual(['v4']);
    cache.forget('a');
    expect(cache.size).toBe(0);
    await expect(cache.get('b', 'tools', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await Promise.resolve();
    expect(await cache.get('b', 'tools', load)).toEqual(['v5']);
  });

  it('keeps nothing with a time of 0', async () => {
    const cache = createListCache<number>(0);
    let n = 0;
    await cache.get('a', 'tools', async () => ++n);
    expect(await cache.get('a', 'tools', async () => ++n)).toBe(2);
  });
});
