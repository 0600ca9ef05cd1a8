import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorsOf, goodCount, type LoadResult, type RequestSpec } from './load.js';

export interface WrkOptions {
  connections: number;
  threads: number;
  durationSec: number;
  /** Default TIMEOUT_SEC; saturation loads allow queueing (slow scenarios at c=32). */
  timeoutSec?: number;
}

/** A request unanswered this long at c=1 or at the fixed rate counts as `timeout`: on loopback, a hang. */
export const TIMEOUT_SEC = 2;

const dir = mkdtempSync(path.join(os.tmpdir(), 'mcpgw-bench-'));
const lua = (v: string) => JSON.stringify(v); // ASCII only: JSON escapes are Lua escapes

/**
 * The wrk script: fixed method and headers, a body whose JSON-RPC id changes per request, an
 * optional header taken round-robin from a file (one value per line, each thread starting
 * elsewhere), and responses counted by status, which `done` prints for the parser below.
 */
/** The body split around its `"id":1`, or [body, null] when it has none. */
export function idParts(body: string | undefined): [string, string | null] {
  const at = body?.indexOf('"id":1,') ?? -1;
  return at < 0 ? [body ?? '', null] : [body!.slice(0, at + 5), body!.slice(at + 6)];
}

function script(spec: RequestSpec): string {
  const lines = [`wrk.method = ${lua(spec.method)}`];
  if (spec.body !== undefined) lines.push(`wrk.body = ${lua(spec.body)}`);
  for (const [k, v] of Object.entries(spec.headers)) lines.push(`wrk.headers[${lua(k)}] = ${lua(v)}`);
  lines.push(
    'local threads = {}',
    'local counter = 0',
    'function setup(thread) counter = counter + 1; thread:set("offset", counter * 7919); table.insert(threads, thread) end',
    'function response(status, headers, body) statuses[status] = (statuses[status] or 0) + 1 end',
  );
  // A JSON-RPC id unique within the session (MCP forbids reusing one): `"id":1` in the body is
  // replaced per request by a number from the thread's own range.
  const [before, after] = idParts(spec.body);
  lines.push(
    'local reqs = {}',
    'local i = 0',
    'local n = 0',
    'function init(args)',
    '  statuses = {}',
  );
  if (spec.rotate) {
    const file = path.join(dir, `v${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(file, spec.rotate.values.join('\n') + '\n');
    lines.push(`  for v in io.lines(${lua(file)}) do reqs[#reqs + 1] = v end`, '  i = offset % #reqs');
  }
  lines.push(
    '  n = offset * 100000000',
    'end',
    'function request()',
    '  n = n + 1',
    spec.rotate ? `  i = i % #reqs + 1; wrk.headers[${lua(spec.rotate.header)}] = reqs[i]` : '',
    after === null ? '  return wrk.format()' : `  return wrk.format(nil, nil, nil, ${lua(before)} .. n .. ${lua(after)})`,
    'end',
  );
  lines.push(
    'function done(summary, latency, requests)',
    '  local all = {}',
    '  for _, t in ipairs(threads) do for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end end',
    '  for k, v in pairs(all) do io.write(string.format("STATUS %d %d\\n", k, v)) end',
    'end',
  );
  return lines.join('\n') + '\n';
}

function ms(text: string | undefined): number {
  if (!text) return NaN;
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** Runs wrk (Debian package) for a fixed duration and connection count: saturation and c=1. */
export function runWrk(spec: RequestSpec, options: WrkOptions): Promise<LoadResult> {
  const file = path.join(dir, `s${Math.random().toString(36).slice(2)}.lua`);
  writeFileSync(file, script(spec));
  const threads = Math.min(options.threads, options.connections);
  const args = ['-t', String(threads), '-c', String(options.connections), '-d', `${options.durationSec}s`, '--latency', '--timeout', `${options.timeoutSec ?? TIMEOUT_SEC}s`, '-s', file, spec.url];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const statuses: Record<string, number> = {};
      for (const m of out.matchAll(/^STATUS (\d+) (\d+)$/gm)) statuses[m[1]!] = Number(m[2]);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      if (sock) {
        const socket = Number(sock[1]) + Number(sock[2]) + Number(sock[3]);
        if (socket > 0) statuses.socket = socket;
        if (Number(sock[4]) > 0) statuses.timeout = Number(sock[4]);
      }
      const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
      const seconds = ms(/requests in ([\d.]+\w+),/.exec(out)?.[1]) / 1000 || options.durationSec;
      const pct = (p: string) => (requests === 0 ? NaN : ms(new RegExp(`\\s${p}%\\s+(\\S+)`).exec(out)?.[1]));
      resolve({ requests, goodRps: goodCount(statuses) / seconds, statuses, errors: errorsOf(statuses), p50: pct('50'), p90: pct('90'), p99: pct('99') });
    });
  });
}
