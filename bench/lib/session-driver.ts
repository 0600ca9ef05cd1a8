import { errorsOf, type LoadResult } from './load.js';
import { percentile } from './stats.js';

/** Headers for one request; a function where each request needs its own (gateway signatures). */
export type HeaderSource = Record<string, string> | ((method: string) => Record<string, string>);

export interface SessionPlan {
  url: string;
  headers: HeaderSource;
  /** What the session does between initialize and DELETE. */
  steps: readonly ('list' | 'call')[];
  call?: { name: string; arguments: Record<string, unknown> };
}

const PROTOCOL = '2025-06-18';
/** One exchange unanswered this long counts as `timeout` (a session makes 4 or 5 of them). */
const EXCHANGE_TIMEOUT_MS = 5_000;
const failure = (err: unknown) => ((err as Error).name === 'TimeoutError' ? 'timeout' : 'socket');
const BASE = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const headersOf = (h: HeaderSource, method: string) => (typeof h === 'function' ? h(method) : h);

/** One HTTP exchange; the status, or `rpc-error` for a 200 carrying a JSON-RPC error. */
async function send(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<{ status: string; session: string | null; text: string }> {
  const res = await fetch(url, { method, headers, signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  const status = res.ok && /"error"\s*:\s*\{/.test(text) ? 'rpc-error' : String(res.status);
  return { status, session: res.headers.get('mcp-session-id'), text };
}

/** initialize + notifications/initialized; the session id, or null (status counted). */
export async function initialize(url: string, headers: HeaderSource, count: (status: string, text?: string) => void): Promise<string | null> {
  const init = await send(url, 'POST', { ...BASE, ...headersOf(headers, 'POST') }, {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'mcpgw-bench', version: '1' } },
  });
  count(init.status, init.text);
  if (init.status !== '200' || !init.session) return null;
  const sessionHeaders = { ...BASE, 'mcp-session-id': init.session, 'mcp-protocol-version': PROTOCOL };
  const note = await send(url, 'POST', { ...sessionHeaders, ...headersOf(headers, 'POST') }, { jsonrpc: '2.0', method: 'notifications/initialized' });
  count(note.status === '202' ? '202' : note.status);
  return init.session;
}

/** A whole MCP session: initialize, the plan's steps, DELETE. Returns false if any step failed. */
async function oneSession(plan: SessionPlan, count: (status: string) => void): Promise<boolean> {
  const id = await initialize(plan.url, plan.headers, count);
  if (!id) return false;
  const h = (method: string) => ({ ...BASE, 'mcp-session-id': id, 'mcp-protocol-version': PROTOCOL, ...headersOf(plan.headers, method) });
  let ok = true;
  for (const [n, step] of plan.steps.entries()) {
    const body =
      step === 'list'
        ? { jsonrpc: '2.0', id: n + 1, method: 'tools/list', params: {} }
        : { jsonrpc: '2.0', id: n + 1, method: 'tools/call', params: plan.call ?? { name: 'echo', arguments: { text: 'hello' } } };
    const r = await send(plan.url, 'POST', h('POST'), body);
    count(r.status);
    ok &&= r.status === '200';
  }
  const del = await send(plan.url, 'DELETE', h('DELETE'));
  count(del.status);
  return ok && del.status === '200';
}

/**
 * The small Node driver for what wrk cannot do: whole MCP sessions (initialize, list/call,
 * DELETE), `concurrency` at a time for `durationSec`. Latency is per whole session; `requests`
 * counts sessions; statuses count every HTTP exchange.
 */
export async function runSessions(plan: SessionPlan, options: { concurrency: number; durationSec: number }): Promise<LoadResult> {
  const statuses: Record<string, number> = {};
  const count = (s: string) => (statuses[s] = (statuses[s] ?? 0) + 1);
  const latencies: number[] = [];
  let good = 0;
  const started = performance.now();
  const end = started + options.durationSec * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          if (await oneSession(plan, count)) good += 1;
        } catch (err) {
          count(failure(err));
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { requests: latencies.length, goodRps: good / seconds, statuses, errors: errorsOf(statuses), p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99) };
}

/**
 * Opens `total` sessions (`concurrency` at a time) and leaves them open; `headers(i)` gives session
 * i's headers (its user). Returns their ids and statuses.
 */
export async function openSessions(url: string, headers: (i: number) => HeaderSource, total: number, concurrency: number): Promise<{ ids: string[]; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {};
  const count = (s: string) => (statuses[s] = (statuses[s] ?? 0) + 1);
  const ids: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const id = await initialize(url, headers(i), count).catch((err: unknown) => (count(failure(err)), null));
        if (id) ids.push(id);
      }
    }),
  );
  return { ids, statuses };
}

