import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from './http-metrics.js';

/** A rate-limit decision as @mcpgw/rate-limit reports it. */
export interface DecisionLike {
  limiter: string;
  outcome: string;
  store: string;
}

/** mcpgw_rate_limit_decisions_total{limiter, outcome, store}; returns the limiters' onDecision. */
export function createRateLimitMetrics(registry: Registry): (d: DecisionLike) => void {
  const decisions = new Counter({
    name: 'mcpgw_rate_limit_decisions_total',
    help: 'Rate-limit decisions by limiter, outcome (allowed, limited, unavailable) and store (redis, insurance, memory).',
    labelNames: ['limiter', 'outcome', 'store'] as const,
    registers: [registry],
  });
  return (d) => decisions.inc({ limiter: d.limiter, outcome: d.outcome, store: d.store });
}

/**
 * mcpgw_redis_up: 1 while the Redis connection is ready, 0 otherwise; with `outages`,
 * mcpgw_redis_outages_total: how many times limiters switched to the insurance counters (a hung or
 * slow Redis keeps its connection "ready", so only this counter shows those).
 */
export function registerRedisMetrics(registry: Registry, isReady: () => boolean, outages?: () => number): void {
  new Gauge({
    name: 'mcpgw_redis_up',
    help: '1 while the Redis connection is ready; 0 while limits run on in-process insurance counters.',
    registers: [registry],
    collect() {
      this.set(isReady() ? 1 : 0);
    },
  });
  if (!outages) return;
  new Counter({
    name: 'mcpgw_redis_outages_total',
    help: 'Times rate limiters switched to in-process insurance counters because Redis failed, hung or answered too late.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(outages());
    },
  });
}

export interface QueueStatsLike {
  queued: number;
  highWater: number;
  written: number;
  dropped: number;
  failedFlushes: number;
  maxBuffered: number;
}

/** mcpgw_<name>_queue_depth, _queue_high_water, _queue_capacity, _rows_written_total, _rows_dropped_total, _flush_failures_total. */
export function registerQueueMetrics(registry: Registry, name: string, stats: () => QueueStatsLike): void {
  const gauge = (metric: string, help: string, read: (s: QueueStatsLike) => number) =>
    new Gauge({ name: `mcpgw_${name}_${metric}`, help, registers: [registry], collect() { this.set(read(stats())); } });
  const counter = (metric: string, help: string, read: (s: QueueStatsLike) => number) =>
    new Counter({
      name: `mcpgw_${name}_${metric}`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(stats()));
      },
    });
  gauge('queue_depth', `${name} rows waiting in memory to be written.`, (s) => s.queued);
  gauge('queue_high_water', `Most ${name} rows ever waiting at once since start.`, (s) => s.highWater);
  gauge('queue_capacity', `Rows the ${name} buffer holds before it drops.`, (s) => s.maxBuffered);
  counter('rows_written_total', `${name} rows written to the database.`, (s) => s.written);
  counter('rows_dropped_total', `${name} rows dropped because the buffer was full (or left at shutdown).`, (s) => s.dropped);
  counter('flush_failures_total', `${name} batch inserts that failed and were retried.`, (s) => s.failedFlushes);
}

export interface UpstreamMetrics {
  /** One request to an upstream server: how long it took and how it ended (ok, error, timeout, unavailable…). */
  observe(server: string, operation: string, seconds: number, outcome: string): void;
}

/** mcpgw_upstream_requests_total{server, operation, outcome} and mcpgw_upstream_duration_seconds{server, operation}. */
export function createUpstreamMetrics(registry: Registry): UpstreamMetrics {
  const requests = new Counter({
    name: 'mcpgw_upstream_requests_total',
    help: 'Requests to upstream servers by server, operation (tools/list, tools/call…) and outcome (ok or the failure).',
    labelNames: ['server', 'operation', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'mcpgw_upstream_duration_seconds',
    help: 'Time an upstream server took to answer, by server and operation.',
    labelNames: ['server', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    observe(server, operation, seconds, outcome) {
      requests.inc({ server, operation, outcome });
      duration.observe({ server, operation }, seconds);
    },
  };
}
