import type { Express, NextFunction, Request, Response } from 'express';
import type { RateLimitRuleRepo } from '@mcpgw/db';
import type { SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import {
  createMetricsRegistry,
  createRateLimitMetrics,
  createUpstreamMetrics,
  matchedRoute,
  observeHttpRequests,
  registerMetricsRoute,
  registerRedisMetrics,
  type Registry,
} from '@mcpgw/metrics';
import { createRedisClient, type RedisClient } from '@mcpgw/rate-limit';
import { createToolLimits, type ToolGuard } from './tool-limits.js';

export interface TrafficControlOptions {
  /** Redis for the rule counters (the gateway's); unset: in-process counters. */
  redisUrl?: string | undefined;
  /** How often the rules are read again. */
  rulesRefreshMs: number;
  /** Bearer token of GET /metrics; unset: no /metrics. */
  metricsToken?: string | undefined;
  rules: Pick<RateLimitRuleRepo, 'listEnabled'>;
  security: Pick<SecurityEventRecorder, 'record'>;
  logger: Logger;
}

/** mcp-proxy's limits and metrics: what deps.ts builds, app.ts mounts and close() ends. */
export interface TrafficControl {
  guard: ToolGuard;
  registry: Registry;
  redis: RedisClient | null;
  /** Request metrics for every route, and GET /metrics behind the bearer token. */
  mount(app: Express): void;
  close(): Promise<void>;
}

/** A JSON-RPC 2.0 request, notification or response, or a non-empty batch of them. */
export function isJsonRpcMessage(body: unknown): boolean {
  const one = (m: unknown) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
    const msg = m as Record<string, unknown>;
    return msg.jsonrpc === '2.0' && (typeof msg.method === 'string' || ('id' in msg && ('result' in msg || 'error' in msg)));
  };
  return Array.isArray(body) ? body.length > 0 && body.every(one) : one(body);
}

/**
 * A POST to an MCP endpoint refused with 400 whose body parsed as JSON but is not JSON-RPC is kept
 * as a `malformed-json-rpc` security event (unparsable JSON is recorded by the error middleware).
 */
function recordMalformedJsonRpc(security: Pick<SecurityEventRecorder, 'record'>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'POST' && (req.path === '/mcp' || req.path.startsWith('/mcp/'))) {
      res.once('finish', () => {
        if (res.statusCode !== 400 || req.body === undefined || isJsonRpcMessage(req.body)) return;
        security.record({
          kind: 'malformed-json-rpc',
          reason: 'body is JSON but not a JSON-RPC 2.0 message',
          userId: req.identity?.userId ?? null,
          userEmail: req.identity?.email ?? null,
          requestId: req.requestId,
          details: { path: req.path },
        });
      });
    }
    next();
  };
}

export function createTrafficControl(options: TrafficControlOptions): TrafficControl {
  const { logger } = options;
  const registry = createMetricsRegistry('mcp-proxy');
  const redis = options.redisUrl ? createRedisClient({ url: options.redisUrl }, logger) : null;
  if (redis) registerRedisMetrics(registry, () => redis.status === 'ready');
  const limits = createToolLimits({
    repo: options.rules,
    redis,
    security: options.security,
    logger,
    refreshMs: options.rulesRefreshMs,
    upstreamMetrics: createUpstreamMetrics(registry),
    onDecision: createRateLimitMetrics(registry),
  });
  const observe = observeHttpRequests(registry, (req) => matchedRoute(req));
  return {
    guard: limits.guard,
    registry,
    redis,
    mount(app) {
      app.use(observe);
      app.use(recordMalformedJsonRpc(options.security));
      registerMetricsRoute(app, registry, options.metricsToken);
    },
    async close() {
      limits.stop();
      redis?.disconnect();
    },
  };
}
