import { describe, expect, it } from 'vitest';
import { silentLogger, uniqueId } from '@mcpgw/test-support';
import { createRateLimiter } from '../src/index.js';

const limiter = (points: number, durationSec = 60) =>
  createRateLimiter({ name: 'user', points, durationSec, logger: silentLogger(), keyPrefix: uniqueId('rl-mem-') });

describe('in-process limiter', () => {
  it('describes itself', () => {
    const l = limiter(7, 30);
    expect(l).toMatchObject({ name: 'user', points: 7, durationSec: 30, store: 'local' });
  });

  it.each([1, 5, 100])('with points=%i allows exactly that many, then refuses', async (points) => {
    const l = limiter(points);
    const results = [];
    for (let i = 0; i < points + 3; i++) results.push(await l.consume('k'));

    expect(results.filter((r) => r.allowed)).toHaveLength(points);
    expect(results.slice(0, points).every((r) => r.allowed)).toBe(true);
    expect(results.slice(points).every((r) => !r.allowed)).toBe(true);
    // remaining counts down by one per allowed request and stays at 0 afterwards
    expect(results.map((r) => r.remaining)).toEqual([
      ...Array.from({ length: points }, (_, i) => points - 1 - i),
      0,
      0,
      0,
    ]);
    for (const r of results) expect(r.limit).toBe(points);
  });

  it('gives a refused request a positive wait no longer than the window', async () => {
    const l = limiter(2, 60);
    await l.consume('k');
    await l.consume('k');
    const refused = await l.consume('k');
    expect(refused.allowed).toBe(false);
    expect(refused.resetMs).toBeGreaterThan(0);
    expect(refused.resetMs).toBeLessThanOrEqual(60_000);
  });

  it('counts keys separately', async () => {
    const l = limiter(1);
    expect((await l.consume('a')).allowed).toBe(true);
    expect((await l.consume('a')).allowed).toBe(false);
    expect((await l.consume('b')).allowed).toBe(true);
  });

  it('counts limiters separately even with the same name (no hidden shared state)', async () => {
    const a = limiter(1);
    const b = limiter(1);
    expect((await a.consume('k')).allowed).toBe(true);
    expect((await b.consume('k')).allowed).toBe(true);
  });

  it('charges a cost of several points', async () => {
    const l = limiter(10);
    expect(await l.consume('k', 4)).toMatchObject({ allowed: true, remaining: 6 });
    expect(await l.consume('k', 6)).toMatchObject({ allowed: true, remaining: 0 });
    expect((await l.consume('k', 1)).allowed).toBe(false);
  });

  it('counts concurrent consumes exactly', async () => {
    const l = limiter(50);
    const results = await Promise.all(Array.from({ length: 200 }, () => l.consume('k')));
    expect(results.filter((r) => r.allowed)).toHaveLength(50);
  });

  it('opens a new window once the old one has passed', async () => {
    const l = limiter(1, 1);
    expect((await l.consume('k')).allowed).toBe(true);
    const refused = await l.consume('k');
    expect(refused.allowed).toBe(false);
    await new Promise((r) => setTimeout(r, refused.resetMs + 50));
    expect((await l.consume('k')).allowed).toBe(true);
  });
});
