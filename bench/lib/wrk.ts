import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  threads: number;
  durationSec: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  /** Non-2xx/3xx responses. */
  errors: number;
  socketErrors: number;
  p50: number;
  p90: number;
  p99: number;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpgw-bench-'));

function lua(spec: LoadSpec): string {
  const lines = [`wrk.method = ${JSON.stringify(spec.method)}`];
  if (spec.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(spec.body)}`);
  for (const [k, v] of Object.entries(spec.headers)) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  return lines.join('\n') + '\n';
}

function ms(text: string | undefined): number {
  if (!text) return NaN;
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** Runs wrk (Debian package) for a fixed duration and connection count and parses its report. */
export function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const script = path.join(dir, `s${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(script, lua(spec));
  const args = ['-t', String(spec.threads), '-c', String(spec.connections), '-d', `${spec.durationSec}s`, '--latency', '--timeout', '10s', '-s', script, spec.url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
      const errors = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const socketErrors = sock ? sock.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0;
      const pct = (p: string) => ms(new RegExp(`\\s${p}%\\s+(\\S+)`).exec(out)?.[1]);
      resolve({ requests, rps, errors, socketErrors, p50: pct('50'), p90: pct('90'), p99: pct('99') });
    });
  });
}
