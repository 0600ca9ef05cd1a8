import type { BenchProcess } from './processes.js';
import type { RequestSpec } from './load.js';
import type { SessionPlan } from './session-driver.js';

/** One measured load: what is sent, what it is compared with, and whose CPU and memory count. */
export interface Scenario {
  name: string;
  /** The scenario this one's throughput is divided by (its own name for a baseline). */
  baseline: string;
  /** The scenario its added latency is measured against (default: baseline): the upstream called directly. */
  origin?: string;
  description: string;
  /** Processes whose CPU (with their children) and RSS count for this scenario. */
  processes: BenchProcess[];
  /** A fixed HTTP request for wrk and autocannon; built again before each load (fresh signatures, sessions). */
  request?: () => Promise<RequestSpec>;
  /** Or whole MCP sessions with the Node driver. */
  sessions?: SessionPlan;
  /** Requests per second of the fixed-rate load (none for session scenarios). */
  rate?: number;
  /** At most this many repetitions (slow scenarios). */
  maxReps?: number;
}

/** A scenario that is not a load (10,000 idle sessions): its own figures, one row of notes. */
export interface Probe {
  name: string;
  description: string;
  run(): Promise<Record<string, number | string>>;
}

/** What a family needs from the run: the shared upstreams and the data. */
export interface FamilyContext {
  url(port: number): string;
}

/**
 * Scenarios that share processes (the edge gateways, the chain). `names` is known before anything
 * starts, so --only starts just the families it needs.
 */
export interface Family {
  name: string;
  names: readonly { name: string; baseline: string; origin?: string }[];
  start(): Promise<{ scenarios: Scenario[]; probes?: Probe[]; stop(): Promise<void> }>;
}
