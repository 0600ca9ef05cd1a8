import { parseArgs } from 'node:util';
import { runFixedRate } from './lib/fixed-rate.js';
import { callBody, MCP_HEADERS, openSession } from './lib/mcp.js';
import { memory } from './lib/processes.js';
import { writeResults } from './lib/report.js';
import { runSessions } from './lib/session-driver.js';
import { addCounts, median } from './lib/stats.js';
import { startBench } from './lib/stack.js';
import { startChain } from './scenarios/chain-stack.js';

/**
 * The memory soak of issue 8 (run by hand, reported in docs/performance.md): the full chain at a
 * fixed rate of tools/call for `--minutes`, plus 50 whole sessions (initialize, list, call,
 * DELETE) every minute, with the RSS of each service sampled after every minute. Growth is the
 * median RSS of the last third of the minutes minus that of the first third after 2 warm-up minutes.
 *
 *   npm run bench:soak -- [--minutes 30] [--rate 100]
 */
const { values: opts } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, rate: { type: 'string', default: '100' } } });
const minutes = Number(opts.minutes);
const rate = Number(opts.rate);

const bench = await startBench(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
const chain = await startChain(bench);
const samples: { minute: number; gatewayMb: number; proxyMb: number; good: number }[] = [];
const statuses: Record<string, number> = {};
try {
  const url = `${chain.gateway.url}/mcp/bench`;
  const auth = { authorization: `Bearer ${bench.data.key}` };
  const session = await openSession(url, auth);
  for (let minute = 1; minute <= minutes; minute++) {
    const [load, sessions] = await Promise.all([
      runFixedRate({ url, method: 'POST', headers: { ...MCP_HEADERS, ...auth, ...session }, body: callBody('echo', { text: 'hello' }) }, { rate, durationSec: 60, connections: 8 }),
      runSessions({ url, headers: auth, steps: ['list', 'call'] }, { concurrency: 1, durationSec: 5 }),
    ]);
    addCounts(statuses, load.statuses);
    addCounts(statuses, sessions.statuses);
    const sample = { minute, gatewayMb: memory(chain.gateway.proc).rssMb, proxyMb: memory(chain.proxy.proc).rssMb, good: load.goodRps };
    samples.push(sample);
    process.stderr.write(`minute ${minute}: gateway ${sample.gatewayMb.toFixed(1)} MB, mcp-proxy ${sample.proxyMb.toFixed(1)} MB, ${sample.good.toFixed(0)} good/s, statuses ${JSON.stringify(load.statuses)}\n`);
  }
} finally {
  await chain.stop();
  await bench.stop();
}
// RSS saws up and down with garbage collection: compare medians of a window early (after the
// warm-up) and at the end, not two single samples.
const third = Math.max(1, Math.floor(samples.length / 3));
const early = samples.slice(Math.min(2, samples.length - 1), 2 + third);
const late = samples.slice(-third);
const growth = {
  gatewayMb: median(late.map((s) => s.gatewayMb)) - median(early.map((s) => s.gatewayMb)),
  proxyMb: median(late.map((s) => s.proxyMb)) - median(early.map((s) => s.proxyMb)),
};
console.log(`\nsoak: ${minutes} min at ${rate} req/s tools/call + 50-ish whole sessions a minute through gateway → mcp-proxy → SDK server`);
console.log('| minute | gateway RSS MB | mcp-proxy RSS MB | good req/s |\n|---|---|---|---|');
for (const s of samples) console.log(`| ${s.minute} | ${s.gatewayMb.toFixed(1)} | ${s.proxyMb.toFixed(1)} | ${s.good.toFixed(0)} |`);
console.log(`\ngrowth (median RSS of minutes ${early[0]!.minute}–${early.at(-1)!.minute} to ${late[0]!.minute}–${late.at(-1)!.minute}): gateway ${growth.gatewayMb.toFixed(1)} MB, mcp-proxy ${growth.proxyMb.toFixed(1)} MB; statuses ${JSON.stringify(statuses)}`);
writeResults(new URL('./results/soak/', import.meta.url).pathname, { date: new Date().toISOString(), minutes, rate, samples, growth, statuses });
process.exit(0);
