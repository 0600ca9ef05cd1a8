import { mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '@mcpgw/test-support';
import { start, startNode, stop, usage, waitHealthy, type BenchProcess } from './lib/processes.js';
import { runWrk, type LoadResult, type LoadSpec } from './lib/wrk.js';
import { openSession, prepareData } from './lib/setup.js';

/**
 * mcpgw's benchmark: every scenario against a baseline measured in the same run, reported as a
 * ratio. Starts everything on 127.0.0.1, runs bounded loads with wrk (fixed duration and
 * connections), stops everything, prints one table and writes bench/results/<time>.json.
 *
 *   npm run bench -- [--duration 10] [--reps 3] [--connections 32] [--only edge-apikey,...]
 */
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    reps: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
  },
});
const DURATION = Number(opts.duration);
const REPS = Number(opts.reps);
const CONNECTIONS = Number(opts.connections);
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

for (const tool of ['wrk', 'caddy']) {
  if (spawnSync(tool, ['--version']).error && spawnSync(tool, ['version']).error) {
    throw new Error(`${tool} is required: apt-get install ${tool}`);
  }
}

const TOOLS_CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hello' } } });
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

interface Scenario {
  name: string;
  /** The scenario this one is compared with (its own name for a baseline). */
  baseline: string;
  description: string;
  /** Processes whose CPU and memory count for this scenario. */
  processes: () => BenchProcess[];
  spec: () => Promise<Omit<LoadSpec, 'connections' | 'threads' | 'durationSec'>>;
}

interface Measured {
  scenario: string;
  baseline: string;
  description: string;
  rps: number[];
  p50c1: number[];
  p99c1: number[];
  p50: number[];
  p90: number[];
  p99: number[];
  errors: number;
  cpuSecondsPer10k: number;
  rssMb: Record<string, number>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;

async function main(): Promise<void> {
  const ports = { echo: await freePort(), demo: await freePort(), caddy: await freePort(), gw: await freePort(), gwRedis: await freePort(), proxy: await freePort(), chainGw: await freePort() };
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const data = await prepareData(DATABASE_URL, 'bench', `${url(ports.demo)}/mcp`);
  const procs: BenchProcess[] = [];
  const keep = <T extends BenchProcess>(p: T) => (procs.push(p), p);
  try {
    const echo = keep(startNode('echo', 'bench/upstreams/echo.ts', {}, [String(ports.echo)]));
    const demo = keep(startNode('demo-server', 'services/demo-server/src/main.ts', { DEMO_SERVER_PORT: String(ports.demo), LOG_LEVEL: 'error' }));
    const caddyfile = path.join(os.tmpdir(), `mcpgw-bench-${ports.caddy}.Caddyfile`);
    writeFileSync(caddyfile, `{\n\tadmin off\n\tauto_https off\n}\nhttp://127.0.0.1:${ports.caddy} {\n\treverse_proxy 127.0.0.1:${ports.echo}\n}\n`);
    const caddy = keep(start('caddy', 'caddy', ['run', '--config', caddyfile, '--adapter', 'caddyfile']));
    const common = { DATABASE_URL: data.databaseUrl, DB_SCHEMA: data.schema, GATEWAY_SIGNING_SECRET: data.signingSecret, LOG_LEVEL: 'error', RATE_LIMIT_PER_MINUTE: '100000000' };
    const edge = keep(startNode('gateway', 'services/gateway/src/main.ts', { ...common, GATEWAY_PORT: String(ports.gw), MCP_PROXY_URL: url(ports.echo) }));
    const edgeRedis = keep(startNode('gateway+redis', 'services/gateway/src/main.ts', { ...common, GATEWAY_PORT: String(ports.gwRedis), MCP_PROXY_URL: url(ports.echo), REDIS_URL }));
    const proxy = keep(startNode('mcp-proxy', 'services/mcp-proxy/src/main.ts', { ...common, MCP_PROXY_PORT: String(ports.proxy), MASTER_KEYS: data.masterKeys }));
    const chainGw = keep(startNode('gateway (chain)', 'services/gateway/src/main.ts', { ...common, GATEWAY_PORT: String(ports.chainGw), MCP_PROXY_URL: url(ports.proxy) }));
    await Promise.all([
      waitHealthy(echo, url(ports.echo)),
      waitHealthy(demo, `${url(ports.demo)}/health`),
      waitHealthy(caddy, url(ports.caddy)),
      waitHealthy(edge, `${url(ports.gw)}/gateway/health`),
      waitHealthy(edgeRedis, `${url(ports.gwRedis)}/gateway/health`),
      waitHealthy(proxy, `${url(ports.proxy)}/health`),
      waitHealthy(chainGw, `${url(ports.chainGw)}/gateway/health`),
    ]);
    const auth = { authorization: `Bearer ${data.key}` };

    const scenarios: Scenario[] = [
      { name: 'direct-echo', baseline: 'direct-echo', description: 'raw JSON-RPC echo, called directly', processes: () => [echo], spec: async () => ({ url: `${url(ports.echo)}/mcp`, method: 'POST', headers: MCP_HEADERS, body: TOOLS_CALL }) },
      { name: 'caddy-echo', baseline: 'direct-echo', description: "Caddy's plain reverse_proxy → echo", processes: () => [caddy, echo], spec: async () => ({ url: `${url(ports.caddy)}/mcp`, method: 'POST', headers: MCP_HEADERS, body: TOOLS_CALL }) },
      { name: 'edge-apikey', baseline: 'caddy-echo', description: 'gateway (API key, in-process limit, signed headers) → echo', processes: () => [edge, echo], spec: async () => ({ url: `${url(ports.gw)}/mcp`, method: 'POST', headers: { ...MCP_HEADERS, ...auth }, body: TOOLS_CALL }) },
      { name: 'edge-apikey-redis', baseline: 'caddy-echo', description: 'gateway (API key, Redis limit, signed headers) → echo', processes: () => [edgeRedis, echo], spec: async () => ({ url: `${url(ports.gwRedis)}/mcp`, method: 'POST', headers: { ...MCP_HEADERS, ...auth }, body: TOOLS_CALL }) },
      {
        name: 'direct-sdk',
        baseline: 'direct-sdk',
        description: 'SDK Streamable HTTP server (demo), tools/call, called directly',
        processes: () => [demo],
        spec: async () => {
          const session = await openSession(`${url(ports.demo)}/mcp`, {});
          return { url: `${url(ports.demo)}/mcp`, method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, body: TOOLS_CALL };
        },
      },
      {
        name: 'chain-sdk',
        baseline: 'direct-sdk',
        description: 'gateway → mcp-proxy → SDK server, tools/call',
        processes: () => [chainGw, proxy, demo],
        spec: async () => {
          const session = await openSession(`${url(ports.chainGw)}/mcp/bench`, auth);
          return { url: `${url(ports.chainGw)}/mcp/bench`, method: 'POST', headers: { ...MCP_HEADERS, ...auth, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' }, body: TOOLS_CALL };
        },
      },
    ].filter((s) => !opts.only || opts.only.split(',').includes(s.name)) as Scenario[];

    const results: Measured[] = [];
    for (const s of scenarios) {
      const spec = await s.spec();
      await runWrk({ ...spec, connections: CONNECTIONS, threads: 2, durationSec: 2 }); // warm-up
      const m: Measured = { scenario: s.name, baseline: s.baseline, description: s.description, rps: [], p50c1: [], p99c1: [], p50: [], p90: [], p99: [], errors: 0, cpuSecondsPer10k: 0, rssMb: {} };
      let cpu = 0;
      let requests = 0;
      for (let rep = 0; rep < REPS; rep++) {
        const single: LoadResult = await runWrk({ ...spec, connections: 1, threads: 1, durationSec: Math.max(2, Math.round(DURATION / 2)) });
        const before = s.processes().map(usage);
        const load: LoadResult = await runWrk({ ...spec, connections: CONNECTIONS, threads: 2, durationSec: DURATION });
        const after = s.processes().map(usage);
        cpu += after.reduce((a, u, i) => a + u.cpuSeconds - before[i]!.cpuSeconds, 0);
        requests += load.requests;
        for (const [i, p] of s.processes().entries()) m.rssMb[p.name] = Math.max(m.rssMb[p.name] ?? 0, after[i]!.rssMb);
        m.rps.push(load.rps);
        m.p50.push(load.p50);
        m.p90.push(load.p90);
        m.p99.push(load.p99);
        m.p50c1.push(single.p50);
        m.p99c1.push(single.p99);
        m.errors += load.errors + load.socketErrors + single.errors + single.socketErrors;
      }
      m.cpuSecondsPer10k = requests > 0 ? (cpu / requests) * 10_000 : NaN;
      results.push(m);
      process.stderr.write(`  ${s.name}: ${median(m.rps).toFixed(0)} req/s\n`);
    }

    const byName = new Map(results.map((r) => [r.scenario, r]));
    const rows = results.map((r) => {
      const base = byName.get(r.baseline);
      const ratio = base ? median(r.rps) / median(base.rps) : NaN;
      const added = base ? median(r.p50c1) - median(base.p50c1) : NaN;
      return {
        scenario: r.scenario,
        baseline: r.baseline,
        'req/s (median)': median(r.rps).toFixed(0),
        'req/s (min–max)': range(r.rps),
        'x baseline': r.baseline === r.scenario ? '1.00' : ratio.toFixed(2),
        'p50 c=1 ms': median(r.p50c1).toFixed(3),
        'added p50 c=1 ms': r.baseline === r.scenario ? '—' : added.toFixed(3),
        [`p50/p90/p99 c=${CONNECTIONS} ms`]: `${median(r.p50).toFixed(2)}/${median(r.p90).toFixed(2)}/${median(r.p99).toFixed(2)}`,
        errors: r.errors,
        'CPU s/10k req': r.cpuSecondsPer10k.toFixed(2),
        'RSS MB': Object.entries(r.rssMb).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', '),
      };
    });
    console.table(rows);
    const outDir = new URL('./results/', import.meta.url).pathname;
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify({ date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, durationSec: DURATION, reps: REPS, connections: CONNECTIONS, results, table: rows }, null, 2),
    );
    process.stderr.write(`results: ${file}\n`);
  } finally {
    for (const p of procs.reverse()) await stop(p);
    await data.cleanup();
  }
}

await main();
