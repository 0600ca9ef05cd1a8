export interface RetryBudgetOptions {
  /** Retries earned per request: 0.1 lets retries add at most 10 % to a steady stream of requests. */
  ratio: number;
  /** Retries that may be spent at once, and the budget a quiet target starts with. */
  reserve: number;
}

export interface RetryBudget {
  /** A request was made (not a retry): earns `ratio` of a retry. */
  deposit(): void;
  /** May one retry go now? Spends it when so. */
  withdraw(): boolean;
}

/**
 * A retry budget for one upstream target (test-matrix R12, retry storms): however often requests
 * fail, retries never add more than `ratio` of the requests (plus the reserve) to the load of a
 * server that is already struggling. A per-request "retry once" alone would double the load of a
 * server refusing every request.
 */
export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  let tokens = options.reserve;
  return {
    deposit() {
      tokens = Math.min(options.reserve, tokens + options.ratio);
    },
    withdraw() {
      if (tokens < 1 - 1e-9) return false; // ten deposits of 0.1 are 0.999…
      tokens -= 1;
      return true;
    },
  };
}
