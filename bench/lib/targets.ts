import type { Row } from './report.js';

export interface TargetResult {
  /** Short stable name (the perf smoke test picks targets by it). */
  id: string;
  target: string;
  measured: string;
  /** The measured value divided by the target's bound, oriented so that >= 1 passes. */
  score: number;
  pass: boolean | null;
}

type Figures = Record<string, Record<string, number | string>>;

/**
 * The targets, each from figures of the same run. A target whose scenarios did not run
 * (--only) is reported as not measured (pass: null).
 */
export function evaluateTargets(rows: readonly Row[], probes: Figures): TargetResult[] {
  const by = new Map(rows.map((r) => [r.scenario, r]));
  const out: TargetResult[] = [];
  const add = (id: string, target: string, needs: string[], fn: (r: (n: string) => Row) => { measured: string; score: number }) => {
    if (!needs.every((n) => by.has(n))) return void out.push({ id, target, measured: `not measured (needs ${needs.join(', ')})`, score: NaN, pass: null });
    const { measured, score } = fn((n) => by.get(n)!);
    out.push({ id, target, measured, score, pass: Number.isFinite(score) ? score >= 1 : false });
  };
  const ratio = (a: Row, b: Row) => a.rps / b.rps;

  add('edge-throughput', 'edge (API key + Redis limit + signed headers) throughput >= 0.6 x Caddy', ['edge-apikey-redis', 'caddy-echo'], (r) => {
    const x = ratio(r('edge-apikey-redis'), r('caddy-echo'));
    return { measured: `${x.toFixed(2)} x`, score: x / 0.6 };
  });
  add('edge-latency', "edge added p50 at c=1 <= 1.5 x Caddy's added p50", ['edge-apikey-redis', 'caddy-echo', 'direct-echo'], (r) => {
    const edge = r('edge-apikey-redis').addedP50;
    const caddy = r('caddy-echo').addedP50;
    return { measured: `${edge.toFixed(3)} ms vs Caddy ${caddy.toFixed(3)} ms (${(edge / caddy).toFixed(2)} x)`, score: (1.5 * caddy) / edge };
  });
  add('chain-throughput', 'full chain tools/call throughput >= 0.6 x the SDK upstream directly', ['chain-call', 'direct-sdk'], (r) => {
    const x = ratio(r('chain-call'), r('direct-sdk'));
    return { measured: `${x.toFixed(2)} x`, score: x / 0.6 };
  });
  add('chain-latency', 'full chain tools/call added p50 at c=1 <= 0.35 ms', ['chain-call', 'direct-sdk'], (r) => {
    const added = r('chain-call').addedP50;
    return { measured: `${added.toFixed(3)} ms`, score: 0.35 / Math.max(added, 1e-6) };
  });
  add('rs256-cache', 'RS256 with the verify cache within 10 % of the API-key path', ['edge-rs256', 'edge-apikey'], (r) => {
    const x = ratio(r('edge-rs256'), r('edge-apikey'));
    return { measured: `${x.toFixed(2)} x (cache off: ${by.has('edge-rs256-nocache') ? ratio(by.get('edge-rs256-nocache')!, r('edge-apikey')).toFixed(2) : '—'} x)`, score: x / 0.9 };
  });
  add('analytics-cost', 'analytics on costs <= 3 % of throughput', ['edge-apikey-redis-analytics', 'edge-apikey-redis'], (r) => {
    const x = ratio(r('edge-apikey-redis-analytics'), r('edge-apikey-redis'));
    return { measured: `${x.toFixed(3)} x (${((1 - x) * 100).toFixed(1)} % cost)`, score: x / 0.97 };
  });
  add('analytics-wait', 'analytics: no request waits on the database (p99 at fixed rate within 1 ms or 20 % of analytics off)', ['edge-apikey-redis-analytics', 'edge-apikey-redis'], (r) => {
    const on = r('edge-apikey-redis-analytics').fixed[2];
    const off = r('edge-apikey-redis').fixed[2];
    return { measured: `p99 ${on.toFixed(2)} ms vs ${off.toFixed(2)} ms off`, score: Math.max(off + 1, off * 1.2) / on };
  });
  add('list-50', 'tools/list over 50 upstreams, warm: >= 0.8 x tools/list over 1', ['list-50-warm', 'list-1-warm'], (r) => {
    const x = ratio(r('list-50-warm'), r('list-1-warm'));
    return { measured: `${x.toFixed(2)} x`, score: x / 0.8 };
  });
  add('users-15k', '15,000 users: >= 0.9 x the throughput of one user', ['users-15k', 'users-1'], (r) => {
    const x = ratio(r('users-15k'), r('users-1'));
    return { measured: `${x.toFixed(2)} x`, score: x / 0.9 };
  });
  add('stdio', 'stdio path: >= 1.5 x the npm package mcp-proxy on the same server', ['stdio-mcpgw', 'stdio-npm'], (r) => {
    const x = ratio(r('stdio-mcpgw'), r('stdio-npm'));
    return { measured: `${x.toFixed(2)} x`, score: x / 1.5 };
  });

  // Memory: every mcpgw service's RSS under saturation, in every scenario it served.
  const services: Record<string, number> = {};
  for (const row of rows) {
    for (const [name, mb] of Object.entries(row.rssMb)) {
      if (/^(gateway|mcp-proxy)/.test(name)) services[name] = Math.max(services[name] ?? 0, mb);
    }
  }
  if (Object.keys(services).length > 0) {
    const worst = Math.max(...Object.values(services));
    out.push({
      id: 'memory-saturated',
      target: 'memory: each service <= 160 MB RSS under saturation',
      measured: Object.entries(services).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', '),
      score: 160 / worst,
      pass: worst <= 160,
    });
  }
  const idle = probes['idle-sessions'];
  if (idle && typeof idle.rssMb === 'number') {
    out.push({
      id: 'memory-idle-sessions',
      target: `memory: ${idle.sessions} idle sessions <= 500 MB in mcp-proxy`,
      measured: `${idle.rssMb.toFixed(0)} MB RSS (${Number(idle.kbPerSession).toFixed(1)} KB per session)`,
      score: 500 / idle.rssMb,
      pass: idle.rssMb <= 500 && Number(idle.opened) === Number(idle.sessions),
    });
  }
  return out;
}

export function targetLines(results: readonly TargetResult[]): string {
  return results.map((t) => `- ${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'MISS'}  ${t.target}: ${t.measured}`).join('\n');
}
