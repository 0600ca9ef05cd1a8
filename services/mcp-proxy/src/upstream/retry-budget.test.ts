import { describe, expect, it } from 'vitest';
import { createRetryBudget } from './retry-budget.js';

describe('retry budget', () => {
  it('spends its reserve, then allows one retry per 1/ratio requests', () => {
    const budget = createRetryBudget({ ratio: 0.1, reserve: 3 });
    expect([budget.withdraw(), budget.withdraw(), budget.withdraw(), budget.withdraw()]).toEqual([true, true, true, false]);
    let retries = 0;
    for (let i = 0; i < 1000; i++) {
      budget.deposit();
      if (budget.withdraw()) retries += 1; // every request fails and wants a retry
    }
    expect(retries).toBeGreaterThanOrEqual(99);
    expect(retries).toBeLessThanOrEqual(100);
  });

  it('a quiet period refills it only up to the reserve', () => {
    const budget = createRetryBudget({ ratio: 0.5, reserve: 2 });
    for (let i = 0; i < 100; i++) budget.deposit();
    expect([budget.withdraw(), budget.withdraw(), budget.withdraw()]).toEqual([true, true, false]);
  });
});
