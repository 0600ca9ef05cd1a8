import { describe, expect, it } from 'vitest';
import { kolmogorovSmirnov, percentile } from './stats.js';

describe('abuse-test statistics', () => {
  it('KS: one distribution gives a small D and a large p; shifted ones a large D and p near 0', () => {
    const uniform = (n: number, shift = 0) => Array.from({ length: n }, (_, i) => (i * 7919) % n / n + shift);
    const same = kolmogorovSmirnov(uniform(1000), uniform(1000));
    expect(same.d).toBeLessThan(0.01);
    expect(same.p).toBeGreaterThan(0.99);
    const shifted = kolmogorovSmirnov(uniform(1000), uniform(1000, 0.5));
    expect(shifted.d).toBeCloseTo(0.5, 2);
    expect(shifted.p).toBeLessThan(1e-6);
  });

  it('KS: D of disjoint samples is 1', () => {
    expect(kolmogorovSmirnov([1, 2, 3], [4, 5, 6]).d).toBe(1);
  });

  it('percentile: nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([], 99)).toBe(0);
  });
});
