/** What every load driver (wrk, autocannon, the MCP session driver) reports. */
export interface LoadResult {
  /** Completed requests (or sessions, for the session driver). */
  requests: number;
  /** Completed requests per second whose status was the expected one. */
  goodRps: number;
  /** Responses by HTTP status, plus `socket` for connect/read/write errors and `timeout`. */
  statuses: Record<string, number>;
  /** Everything that is not a 2xx: errors by status (and socket/timeout). */
  errors: Record<string, number>;
  p50: number;
  p90: number;
  p99: number;
}

/** One HTTP request shape, sent over and over (optionally with a rotating header). */
export interface RequestSpec {
  url: string;
  method: 'GET' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body?: string;
  /** Each request takes the next value of this header from the list (e.g. 15,000 API keys). */
  rotate?: { header: string; values: readonly string[] };
}

export function errorsOf(statuses: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(statuses).filter(([k]) => !/^2\d\d$/.test(k)));
}

export function goodCount(statuses: Record<string, number>): number {
  return Object.entries(statuses).reduce((n, [k, v]) => (/^2\d\d$/.test(k) ? n + v : n), 0);
}
