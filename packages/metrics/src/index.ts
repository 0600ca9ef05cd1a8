export { createMetricsRegistry, type Registry } from './registry.js';
export { observeHttpRequests, matchedRoute, LATENCY_BUCKETS } from './http-metrics.js';
export { registerMetricsRoute } from './metrics-endpoint.js';
export {
  createRateLimitMetrics,
  registerRedisMetrics,
  registerQueueMetrics,
  createUpstreamMetrics,
  type DecisionLike,
  type QueueStatsLike,
  type UpstreamMetrics,
} from './traffic-metrics.js';
