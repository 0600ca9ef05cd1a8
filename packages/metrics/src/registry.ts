import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per service, every series labelled with `service`, plus Node's process metrics
 * (CPU, memory, event-loop lag, handles). No global registry: each app built in a test has its own.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
export type { Registry } from 'prom-client';
