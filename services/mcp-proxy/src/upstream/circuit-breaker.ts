export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long it stays open the first time; doubled after every failed trial, up to maxCooldownMs. */
  cooldownMs: number;
  maxCooldownMs: number;
  now?: () => number;
}

export interface CircuitBreaker {
  /** May a request go upstream now? Closed: yes. Open: no. Half-open: one trial at a time. */
  allow(): boolean;
  success(): void;
  failure(): void;
  /** The request allowed by allow() ended without a verdict (cancelled by its caller). */
  abandon(): void;
  state(): BreakerState;
  /** Consecutive failures so far. */
  failures(): number;
}

/**
 * A circuit breaker for one upstream target: after `failureThreshold` consecutive failures
 * (unreachable, timed out) requests fail fast for a cooldown instead of each waiting for its own
 * timeout; then one trial request (or a health check) may go; its success closes the breaker, its
 * failure opens it again for twice as long. This is also the reconnect backoff: a dead server is
 * not reconnected to more often than the cooldown allows.
 */
export function createCircuitBreaker(options: BreakerOptions): CircuitBreaker {
  const now = options.now ?? Date.now;
  let failures = 0;
  let openUntil = 0;
  let cooldown = options.cooldownMs;
  let trialInFlight = false;

  const isTripped = () => failures >= options.failureThreshold;
  const state = (): BreakerState => (!isTripped() ? 'closed' : now() < openUntil || trialInFlight ? 'open' : 'half-open');

  return {
    allow() {
      const current = state();
      if (current === 'closed') return true;
      if (current === 'open') return false;
      trialInFlight = true;
      return true;
    },
    success() {
      failures = 0;
      openUntil = 0;
      cooldown = options.cooldownMs;
      trialInFlight = false;
    },
    failure() {
      const wasTrial = trialInFlight;
      trialInFlight = false;
      failures += 1;
      if (!isTripped()) return;
      if (wasTrial) cooldown = Math.min(cooldown * 2, options.maxCooldownMs);
      openUntil = now() + cooldown;
    },
    abandon() {
      trialInFlight = false;
    },
    state,
    failures: () => failures,
  };
}
