import type { Redis } from 'ioredis';
import type { Logger } from '@mcpgw/logger';
import { createRateLimiter, type RateLimitDecision, type RateLimiter, type RateLimitResult } from './rate-limiter.js';

/** A limit an admin configured at run time (a database row), as the limiters need it. */
export interface LimitRule {
  id: string;
  /** Name in the RateLimit-Policy / RateLimit fields ("tenant", "tool:github/create_issue"). */
  policy: string;
  points: number;
  windowSec: number;
}

export interface RuleLimitersOptions {
  /** Label for metrics and stats: "tenant-rule", "tool-rule". */
  kind: string;
  redis?: Redis | null;
  keyPrefix?: string;
  logger: Logger;
  onDecision?: (decision: RateLimitDecision) => void;
}

export interface RuleLimiters {
  /** Counts one request of `subject` (a user id, a tenant id…) against `rule`. */
  consume(rule: LimitRule, subject: string, cost?: number): Promise<RateLimitResult>;
  /** Forgets the limiters of rules that no longer exist (call after reloading the rules). */
  retain(ruleIds: ReadonlySet<string>): void;
  /** Decisions since start, summed over every rule. */
  stats(): { allowed: number; limited: number; unavailable: number; insurance: number; rules: number };
}

/** Large enough never to refuse: the rule's own quota decides (see below). */
const UNBOUNDED = 1_000_000_000;

/**
 * One counter per rule and window length, made on first use. The counter itself never refuses;
 * each decision compares its count with the rule's quota of the moment, so an admin's change of
 * quota applies to the running window at once (in Redis and in process alike), while a change of
 * window length starts a fresh count.
 */
export function createRuleLimiters(options: RuleLimitersOptions): RuleLimiters {
  const counters = new Map<string, { ruleId: string; counter: RateLimiter }>();
  const counts = { allowed: 0, limited: 0, unavailable: 0, insurance: 0 };

  function counterFor(rule: LimitRule): RateLimiter {
    const id = `${rule.id}:${rule.windowSec}`;
    let entry = counters.get(id);
    if (!entry) {
      entry = {
        ruleId: rule.id,
        counter: createRateLimiter({
          name: 'rule',
          points: UNBOUNDED,
          durationSec: rule.windowSec,
          redis: options.redis ?? null,
          keyPrefix: `${options.keyPrefix ?? 'mcpgw:rl'}:rule:${rule.id}:${rule.windowSec}`,
          logger: options.logger,
        }),
      };
      counters.set(id, entry);
    }
    return entry.counter;
  }

  return {
    async consume(rule, subject, cost = 1) {
      const counted = await counterFor(rule).consume(subject, cost);
      let result: RateLimitResult;
      if (counted.unavailable) {
        result = { ...counted, limit: rule.points, remaining: 0 };
      } else {
        const consumed = UNBOUNDED - counted.remaining;
        result = { allowed: consumed <= rule.points, limit: rule.points, remaining: Math.max(0, rule.points - consumed), resetMs: counted.resetMs, store: counted.store };
      }
      const outcome = result.allowed ? 'allowed' : result.unavailable ? 'unavailable' : 'limited';
      counts[outcome] += 1;
      if (result.store === 'insurance') counts.insurance += 1;
      options.onDecision?.({ limiter: options.kind, outcome, store: result.store });
      return result;
    },
    retain(ruleIds) {
      for (const [id, entry] of counters) if (!ruleIds.has(entry.ruleId)) counters.delete(id);
    },
    stats: () => ({ ...counts, rules: new Set([...counters.values()].map((e) => e.ruleId)).size }),
  };
}
