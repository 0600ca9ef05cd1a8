import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { RateLimitRule, RateLimitRuleRepo } from '@mcpgw/db';
import { JSON_RPC, type SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import type { UpstreamMetrics } from '@mcpgw/metrics';
import {
  combineRateLimitHeaders,
  createPolledSnapshot,
  createRuleLimiters,
  rateLimitHeaders,
  type LimitRule,
  type RateLimitDecision,
  type RedisClient,
  type RuleLimiters,
} from '@mcpgw/rate-limit';
import type { Caller } from '../domain/caller.js';

/**
 * What mcp-proxy checks on every tools/call once policy has allowed it, before the upstream is
 * asked (the one place mcp-proxy knows the server, the tool and the caller together):
 *
 *  1. the arguments are inspected for suspicious values (path traversal, NUL bytes, well-known
 *     secret files); a finding is a security event, the call still goes through;
 *  2. every enabled `tool` rate-limit rule that matches (server, tool, tenant) counts the call,
 *     per user or per tenant; over budget → a JSON-RPC error the caller can read, with the wait
 *     in `data.retryAfter` (whole seconds) and the RateLimit-Policy / RateLimit values.
 *
 * It also times each upstream call for the per-server metrics.
 */

// ---- 1. argument inspection ------------------------------------------------------------------

export interface ArgumentFinding {
  /** JSON path of the value: `$.path`, `$.files[2]`. */
  at: string;
  rule: 'path-traversal' | 'encoded-traversal' | 'nul-byte' | 'sensitive-file';
}

const TRAVERSAL = /(^|[\\/])\.\.([\\/]|$)/;
const RULES: readonly { rule: ArgumentFinding['rule']; test: RegExp }[] = [
  { rule: 'path-traversal', test: TRAVERSAL },
  { rule: 'nul-byte', test: /\u0000/ },
  { rule: 'sensitive-file', test: /(^|[\\/])(etc[\\/](passwd|shadow|sudoers)|\.ssh[\\/]|\.aws[\\/]credentials|\.kube[\\/]config|proc[\\/]self[\\/])/i },
];
/** Overlong UTF-8 spellings of `.` and `/` that some decoders still accept. */
const OVERLONG = /%c0%ae|%c0%af|%e0%80%ae|%c1%9c/i;

/** The value percent-decoded once and twice (double encoding), where that changes it. */
function decodings(value: string): string[] {
  const out: string[] = [];
  let current = value;
  for (let i = 0; i < 2 && current.includes('%'); i++) {
    try {
      const next = decodeURIComponent(current);
      if (next === current) break;
      out.push(next);
      current = next;
    } catch {
      break;
    }
  }
  return out;
}

const MAX_DEPTH = 12;
const MAX_STRINGS = 2_000;

/** Suspicious string values anywhere in a tool call's arguments (keys included), bounded work. */
export function inspectArguments(args: unknown): ArgumentFinding[] {
  const findings: ArgumentFinding[] = [];
  let budget = MAX_STRINGS;
  const add = (at: string, rule: ArgumentFinding['rule']) => {
    if (!findings.some((f) => f.at === at && f.rule === rule)) findings.push({ at, rule });
  };
  const check = (value: string, at: string) => {
    budget -= 1;
    for (const { rule, test } of RULES) if (test.test(value)) add(at, rule);
    if (value.includes('%')) {
      if (OVERLONG.test(value) || decodings(value).some((d) => TRAVERSAL.test(d) || d.includes('\u0000'))) add(at, 'encoded-traversal');
    }
  };
  const walk = (value: unknown, at: string, depth: number): void => {
    if (budget <= 0 || depth > MAX_DEPTH) return;
    if (typeof value === 'string') check(value, at);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${at}[${i}]`, depth + 1));
    else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        const path = /^[A-Za-z_$][\w$]*$/.test(key) ? `${at}.${key}` : `${at}[${JSON.stringify(key.slice(0, 64))}]`;
        check(key, path);
        walk(v, path, depth + 1);
      }
    }
  };
  walk(args, '$', 0);
  return findings;
}

// ---- 2. tool rate limits ---------------------------------------------------------------------

/** The name of a rule in the RateLimit fields and the error: `tool demo/echo per user`. */
export function policyName(rule: Pick<RateLimitRule, 'serverId' | 'tool' | 'per' | 'tenantId'>): string {
  return `tool ${rule.serverId}/${rule.tool ?? '*'} per ${rule.per}${rule.tenantId ? ` for ${rule.tenantId}` : ''}`;
}

/** The enabled tool rules by server id. */
export type ToolRuleIndex = ReadonlyMap<string, readonly RateLimitRule[]>;

export function indexToolRules(rules: readonly RateLimitRule[]): ToolRuleIndex {
  const index = new Map<string, RateLimitRule[]>();
  for (const rule of rules) {
    if (rule.scope !== 'tool' || !rule.enabled || !rule.serverId) continue;
    index.set(rule.serverId, [...(index.get(rule.serverId) ?? []), rule]);
  }
  return index;
}

/** The rules that count a call of `tool` on `serverId` by a caller of `tenant`. */
export function matchingRules(index: ToolRuleIndex, serverId: string, tool: string, tenant: string | null): RateLimitRule[] {
  return (index.get(serverId) ?? []).filter((r) => (r.tool === null || r.tool === tool) && (r.tenantId === null || r.tenantId === tenant));
}

export function rateLimited(message: string, data: Record<string, unknown>): McpError {
  return new McpError(JSON_RPC.RATE_LIMITED, message, data);
}

export interface ToolGuardDeps {
  rules: () => ToolRuleIndex;
  limiters: RuleLimiters;
  security: Pick<SecurityEventRecorder, 'record'>;
  upstreamMetrics?: UpstreamMetrics;
}

export interface ToolGuard {
  /** Inspects the arguments and counts the call; throws the rate-limit McpError when over budget. */
  admit(caller: Caller, serverId: string, tool: string, args: unknown): Promise<void>;
  /** Records one upstream request (started at `startedMs`, performance.now()); `err` null when it succeeded. */
  observe(serverId: string, operation: string, startedMs: number, err: unknown): void;
}

function failureOf(err: unknown): string {
  const failure = (err as { failure?: unknown } | null)?.failure;
  if (typeof failure === 'string') return failure;
  return err instanceof McpError ? 'mcp-error' : 'error';
}

export function createToolGuard(deps: ToolGuardDeps): ToolGuard {
  return {
    async admit(caller, serverId, tool, args) {
      const { identity } = caller;
      const findings = inspectArguments(args);
      if (findings.length > 0) {
        deps.security.record({
          kind: 'suspicious-tool-arguments',
          reason: [...new Set(findings.map((f) => f.rule))].join(', '),
          userId: identity.userId,
          userEmail: identity.email,
          requestId: caller.requestId,
          details: { serverId, tool, findings: findings.slice(0, 20) },
        });
      }

      const rules = matchingRules(deps.rules(), serverId, tool, identity.tenant);
      if (rules.length === 0) return;
      const decisions = await Promise.all(
        rules.map(async (rule) => {
          const limit: LimitRule = { id: rule.id, policy: policyName(rule), points: rule.points, windowSec: rule.windowSeconds };
          const subject = rule.per === 'user' ? identity.userId : (identity.tenant ?? '-');
          const result = await deps.limiters.consume(limit, subject);
          return { limit, result, headers: rateLimitHeaders(limit.policy, limit.windowSec, result) };
        }),
      );
      const refused = decisions.filter((d) => !d.result.allowed);
      if (refused.length === 0) return;
      const headers = combineRateLimitHeaders(decisions.map((d) => d.headers));
      const retryAfter = Number(headers['retry-after'] ?? 1);
      const policies = refused.map((d) => d.limit.policy);
      deps.security.record({
        kind: 'rate-limited',
        reason: policies.join(', '),
        userId: identity.userId,
        userEmail: identity.email,
        requestId: caller.requestId,
        details: { serverId, tool, tenant: identity.tenant },
      });
      throw rateLimited(`Rate limit exceeded (${policies.join(', ')}); retry after ${retryAfter} s`, {
        retryAfter,
        violatedPolicies: policies,
        rateLimitPolicy: headers['ratelimit-policy'],
        rateLimit: headers.ratelimit,
      });
    },
    observe(serverId, operation, startedMs, err) {
      deps.upstreamMetrics?.observe(serverId, operation, (performance.now() - startedMs) / 1000, err === null ? 'ok' : failureOf(err));
    },
  };
}

// ---- composition -------------------------------------------------------------------------------

export interface ToolLimitsOptions {
  repo: Pick<RateLimitRuleRepo, 'listEnabled'>;
  redis: RedisClient | null;
  security: Pick<SecurityEventRecorder, 'record'>;
  logger: Logger;
  /** How often the rules are read again (a change takes effect within this time). */
  refreshMs: number;
  upstreamMetrics?: UpstreamMetrics;
  onDecision?: (decision: RateLimitDecision) => void;
}

/** The guard with its rules kept fresh from the database and its limiters on Redis (or in process). */
export function createToolLimits(options: ToolLimitsOptions): { guard: ToolGuard; limiters: RuleLimiters; rules: () => ToolRuleIndex; stop(): void } {
  const limiters = createRuleLimiters({
    kind: 'tool-rule',
    redis: options.redis,
    logger: options.logger,
    ...(options.onDecision ? { onDecision: options.onDecision } : {}),
  });
  let index: ToolRuleIndex = new Map();
  const snapshot = createPolledSnapshot({
    name: 'tool rate-limit rules',
    load: () => options.repo.listEnabled('tool'),
    initial: [] as RateLimitRule[],
    intervalMs: options.refreshMs,
    logger: options.logger,
    onLoad: (rules) => {
      index = indexToolRules(rules);
      limiters.retain(new Set(rules.map((r) => r.id)));
    },
  });
  const rules = () => index;
  const guard = createToolGuard({
    rules,
    limiters,
    security: options.security,
    ...(options.upstreamMetrics ? { upstreamMetrics: options.upstreamMetrics } : {}),
  });
  return { guard, limiters, rules, stop: snapshot.stop };
}
