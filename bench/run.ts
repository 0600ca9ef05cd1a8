import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runBench } from './bench.js';
import { shortDuration } from './lib/measure.js';
import { writeResults } from './lib/report.js';
import { targetLines } from './lib/targets.js';

/**
 * mcpgw's benchmark: every scenario against a baseline measured in the same run, reported as a
 * ratio (docs/performance.md). Starts everything on 127.0.0.1, runs bounded loads, stops
 * everything, prints one table and the targets, writes bench/results/<time>.json, latest.json and latest.md.
 *
 *   npm run bench -- [--duration 3] [--reps 3] [--connections 32] [--sessions 8]
 *                    [--idle-sessions 10000] [--only edge-apikey-redis,chain-call,...]
 */
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    reps: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    sessions: { type: 'string', default: '8' },
    'idle-sessions': { type: 'string', default: '10000' },
    only: { type: 'string', default: '' },
  },
});

for (const [tool, args] of [['wrk', ['--version']], ['caddy', ['version']]] as const) {
  if (spawnSync(tool, args).error) throw new Error(`${tool} is required: apt-get install ${tool}`);
}

const run = await runBench({
  durationSec: Number(opts.duration),
  reps: Number(opts.reps),
  connections: Number(opts.connections),
  sessionConcurrency: Number(opts.sessions),
  idleSessions: Number(opts['idle-sessions']),
  only: opts.only.split(',').map((s) => s.trim()).filter(Boolean),
  databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
});

const m = run.machine;
const report = [
  `mcpgw bench ${run.date} — ${m.cpus} × ${m.model}, Node ${m.node}, Caddy ${m.caddy}, ${m.wrk.split(' ')[0]}`,
  `saturation ${run.settings.durationSec} s, c=1 and fixed rate ${shortDuration(run.settings.durationSec)} s, ${run.settings.reps} repetitions (median, min–max)`,
  '',
  run.table,
  ...Object.entries(run.probes).map(([name, figures]) => `\n${name}: ${Object.entries(figures).map(([k, v]) => `${k} ${typeof v === 'number' ? Number(v.toFixed(2)) : v}`).join(', ')}`),
  '',
  'Targets:',
  targetLines(run.targets),
].join('\n');
console.log(`\n${report}`);
const dir = new URL('./results/', import.meta.url).pathname;
const file = writeResults(dir, run);
writeFileSync(path.join(dir, 'latest.md'), `${report}\n`);
process.stderr.write(`\nresults: ${file} (and latest.json, latest.md)\n`);
// Keep-alive sockets of the load drivers would hold the process open.
process.exit(0);
