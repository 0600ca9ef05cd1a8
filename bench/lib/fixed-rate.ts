import autocannon from 'autocannon';
import { percentile } from './stats.js';
import { idParts, TIMEOUT_SEC } from './wrk.js';
import { errorsOf, goodCount, type LoadResult, type RequestSpec } from './load.js';

export interface FixedRateOptions {
  /** Requests per second, over all connections. */
  rate: number;
  durationSec: number;
  connections: number;
}

/**
 * Sends requests at a fixed rate with autocannon (npm, used programmatically): latency at a load
 * every scenario can carry, so percentiles compare like with like instead of measuring queues.
 */
export async function runFixedRate(spec: RequestSpec, options: FixedRateOptions): Promise<LoadResult> {
  let i = 0;
  let id = 0;
  const rotate = spec.rotate;
  const [before, after] = idParts(spec.body);
  // autocannon's histogram keeps whole milliseconds; its response events carry the exact time.
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
    url: spec.url,
    method: spec.method,
    headers: spec.headers,
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    connections: options.connections,
    overallRate: options.rate,
    duration: options.durationSec,
    timeout: TIMEOUT_SEC,
    requests: [
      {
        // A fresh JSON-RPC id per request (MCP forbids reusing one in a session), and the next
        // rotating header value.
        setupRequest: (req: autocannon.Request) => {
          const next = { ...req, ...(after === null ? {} : { body: `${before}${++id}${after}` }) };
          if (!rotate) return next;
          i = (i + 1) % rotate.values.length;
          return { ...next, headers: { ...req.headers, [rotate.header]: rotate.values[i]! } };
        },
      },
    ],
    }, (err, res) => (err ? reject(err) : resolve(res)));
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  const statuses: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats ?? {})) if (count) statuses[code] = count;
  if (result.errors - result.timeouts > 0) statuses.socket = result.errors - result.timeouts;
  if (result.timeouts > 0) statuses.timeout = result.timeouts;
  // Requests the rate called for but never sent or never answered (connections stuck on a slow
  // answer when the run ended): a scenario that cannot hold the rate says so instead of hiding it.
  const missing = Math.round(options.rate * options.durationSec) - result.requests.total - result.timeouts;
  if (missing > Math.max(2, 0.05 * options.rate * options.durationSec)) statuses['below-rate'] = missing;
  return {
    requests: result.requests.total,
    goodRps: goodCount(statuses) / options.durationSec,
    statuses,
    errors: errorsOf(statuses),
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
  };
}
