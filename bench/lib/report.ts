import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Measured } from './measure.js';
import { max, median, min } from './stats.js';

export interface Row {
  scenario: string;
  baseline: string;
  /** Median good req/s (sessions/s for the session driver) and min–max over repetitions. */
  rps: number;
  rpsMin: number;
  rpsMax: number;
  /** Median good req/s divided by the baseline's. */
  ratio: number;
  c1: [number, number, number];
  /** p50 at c=1 minus the origin's (the upstream called directly), ms. */
  addedP50: number;
  rate: number | null;
  fixed: [number, number, number];
  saturated: [number, number, number];
  errors: Record<string, number>;
  cpuPer10k: number;
  rssMb: Record<string, number>;
}

const trio = (x: { p50: number[]; p90: number[]; p99: number[] }): [number, number, number] => [median(x.p50), median(x.p90), median(x.p99)];

export function rowsOf(results: readonly Measured[]): Row[] {
  const by = new Map(results.map((r) => [r.scenario, r]));
  return results.map((r) => {
    const base = by.get(r.baseline);
    const origin = by.get(r.origin);
    return {
      scenario: r.scenario,
      baseline: r.baseline,
      rps: median(r.rps),
      rpsMin: min(r.rps),
      rpsMax: max(r.rps),
      ratio: base ? median(r.rps) / median(base.rps) : NaN,
      c1: trio(r.c1),
      addedP50: origin ? median(r.c1.p50) - median(origin.c1.p50) : NaN,
      rate: r.rate,
      fixed: trio(r.fixed),
      saturated: trio(r.saturated),
      errors: r.errors,
      cpuPer10k: median(r.cpuSecondsPer10k),
      rssMb: r.rssMb,
    };
  });
}

const f = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '—');
const ms3 = (t: readonly number[]) => (t.every((n) => !Number.isFinite(n)) ? '—' : t.map((n) => f(n, n < 10 ? 2 : 1)).join(' / '));

/** The one printed table (markdown, so docs/performance.md takes it as it is). */
export function table(rows: readonly Row[], connections: number, sessionConcurrency: number): string {
  const head = [
    'scenario',
    'baseline',
    'good req/s median (min–max)',
    '× baseline',
    'p50 / p90 / p99 c=1 ms',
    'added p50 c=1 ms',
    'p50 / p90 / p99 at fixed rate ms',
    `p50 / p90 / p99 saturated ms (c=${connections}; sessions ${sessionConcurrency})`,
    'errors by status',
    'CPU s / 10k req',
    'RSS MB (peak under load)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const self = r.scenario === r.baseline;
    const errors = Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(', ') || '0';
    lines.push(
      `| ${[
        r.scenario,
        self ? '—' : r.baseline,
        `${f(r.rps, 0)} (${f(r.rpsMin, 0)}–${f(r.rpsMax, 0)})`,
        self ? '1.00' : f(r.ratio, 2),
        ms3(r.c1),
        Number.isFinite(r.addedP50) && r.addedP50 !== 0 ? f(r.addedP50, 3) : '—',
        r.rate === null ? '—' : `${ms3(r.fixed)} @ ${r.rate}/s`,
        ms3(r.saturated),
        errors,
        f(r.cpuPer10k, 2),
        Object.entries(r.rssMb).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', '),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** Writes bench/results/<timestamp>.json and bench/results/latest.json; returns the first path. */
export function writeResults(dir: string, document: unknown): string {
  mkdirSync(dir, { recursive: true });
  const text = JSON.stringify(document, null, 2);
  const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, text);
  writeFileSync(path.join(dir, 'latest.json'), text);
  return file;
}
