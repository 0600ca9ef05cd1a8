import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { captureLogger, silentLogger, uniqueId, waitFor } from '@mcpgw/test-support';
import { combineRateLimitHeaders, createPolledSnapshot, createRateLimiter, createRuleLimiters, rateLimitHeaders, withDeadline, type RateLimitDecision } from '../src/index.js';

describe('rule limiters (per-tenant and per-tool rules)', () => {
  const rules = () => createRuleLimiters({ kind: 'tool-rule', logger: silentLogger(), keyPrefix: uniqueId('rl-rules-') });

  it('counts each rule and subject on its own', async () => {
    const l = rules();
    const a = { id: 'a', policy: 'tool demo/echo per user', points: 2, windowSec: 60 };
    const b = { id: 'b', policy: 'tool demo/add per user', points: 1, windowSec: 60 };
    expect((await l.consume(a, 'u1')).allowed).toBe(true);
    expect((await l.consume(a, 'u1')).allowed).toBe(true);
    expect((await l.consume(a, 'u1')).allowed).toBe(false);
    expect((await l.consume(a, 'u2')).allowed).toBe(true);
    expect((await l.consume(b, 'u1')).allowed).toBe(true);
    expect(l.stats()).toMatchObject({ allowed: 4, limited: 1, rules: 2 });
  });

  it('applies a lowered quota to the running window, and a new window length starts afresh', async () => {
    const l = rules();
    const rule = { id: 'r', policy: 'tenant', points: 5, windowSec: 60 };
    for (let i = 0; i < 3; i++) expect((await l.consume(rule, 'acme')).allowed).toBe(true);
    // An admin lowers the quota to 3: the 3 already counted use it up.
    const lowered = { ...rule, points: 3 };
    expect((await l.consume(lowered, 'acme')).allowed).toBe(false);
    const longer = { ...rule, windowSec: 120 };
    expect((await l.consume(longer, 'acme')).allowed).toBe(true);
  });

  it('forgets rules that were deleted but keeps their decisions in the totals', async () => {
    const l = rules();
    await l.consume({ id: 'gone', policy: 'p', points: 1, windowSec: 60 }, 'x');
    await l.consume({ id: 'kept', policy: 'p', points: 1, windowSec: 60 }, 'x');
    l.retain(new Set(['kept']));
    expect(l.stats()).toMatchObject({ allowed: 2, rules: 1 });
  });

  it('reports decisions under its kind for metrics', async () => {
    const seen: RateLimitDecision[] = [];
    const l = createRuleLimiters({ kind: 'tenant-rule', logger: silentLogger(), keyPrefix: uniqueId('rl-'), onDecision: (d) => seen.push(d) });
    const rule = { id: 'r', policy: 'tenant', points: 1, windowSec: 60 };
    await l.consume(rule, 't');
    await l.consume(rule, 't');
    expect(seen).toEqual([
      { limiter: 'tenant-rule', outcome: 'allowed', store: 'memory' },
      { limiter: 'tenant-rule', outcome: 'limited', store: 'memory' },
    ]);
  });
});

describe('limiter bookkeeping', () => {
  it('counts outcomes, says which store answered, and peeks without consuming', async () => {
    const seen: RateLimitDecision[] = [];
    const l = createRateLimiter({ name: 'user', points: 2, durationSec: 60, logger: silentLogger(), keyPrefix: uniqueId('rl-'), onDecision: (d) => seen.push(d) });
    expect(await l.peek('k')).toBeNull();
    const first = await l.consume('k');
    expect(first.store).toBe('memory');
    await l.consume('k');
    await l.consume('k');
    expect(l.stats()).toEqual({ allowed: 2, limited: 1, unavailable: 0, insurance: 0 });
    expect(seen.map((d) => d.outcome)).toEqual(['allowed', 'allowed', 'limited']);
    const peek = await l.peek('k');
    expect(peek).toMatchObject({ consumed: 3, remaining: 0 });
    expect(peek!.resetMs).toBeGreaterThan(0);
    expect(l.stats().allowed + l.stats().limited).toBe(3); // peek did not count
  });
});

describe('combineRateLimitHeaders', () => {
  const r = (allowed: boolean, remaining: number, resetMs: number) => ({ allowed, limit: 10, remaining, resetMs, store: 'memory' as const });

  it('lists every policy in both fields and takes the longest Retry-After', () => {
    const h = combineRateLimitHeaders([
      rateLimitHeaders('user', 60, r(true, 5, 30_000)),
      rateLimitHeaders('tenant', 60, r(false, 0, 42_500)),
      rateLimitHeaders('tool demo/echo per user', 10, r(false, 0, 3_000)),
    ]);
    expect(h['ratelimit-policy']).toBe('"user";q=10;w=60, "tenant";q=10;w=60, "tool demo/echo per user";q=10;w=10');
    expect(h.ratelimit).toBe('"user";r=5;t=30, "tenant";r=0;t=43, "tool demo/echo per user";r=0;t=3');
    expect(h['retry-after']).toBe('43');
  });

  it('has no Retry-After when every policy allowed', () => {
    expect(combineRateLimitHeaders([rateLimitHeaders('user', 60, r(true, 1, 1_000))])).not.toHaveProperty('retry-after');
  });

  it('keeps policy names valid Structured-Field strings', () => {
    const h = rateLimitHeaders('we"ird\\näme', 60, r(true, 1, 1_000));
    expect(h['ratelimit-policy']).toBe('"we\\"ird\\\\n?me";q=10;w=60');
  });
});

describe('polled snapshot', () => {
  it('loads at once, reloads on its interval, keeps the last value while loading fails, and logs once per outage', async () => {
    const { logger, lines } = captureLogger();
    let value = 1;
    let failing = false;
    const s = createPolledSnapshot({
      name: 'test rules',
      load: async () => {
        if (failing) throw new Error('db down');
        return value;
      },
      initial: 0,
      intervalMs: 100,
      logger,
    });
    try {
      await waitFor(() => s.current() === 1, 2_000, 10);
      expect(s.loadedAt()).toBeInstanceOf(Date);
      value = 2;
      await waitFor(() => s.current() === 2, 2_000, 10);
      failing = true;
      value = 3;
      await new Promise((r) => setTimeout(r, 350));
      expect(s.current()).toBe(2);
      expect(lines.filter((l) => l.includes('could not load test rules'))).toHaveLength(1);
      failing = false;
      await waitFor(() => s.current() === 3, 2_000, 10);
      expect(lines.filter((l) => l.includes('test rules loaded again'))).toHaveLength(1);
    } finally {
      s.stop();
    }
  });
});

describe('withDeadline', () => {
  it('passes a timely answer (or rejection) through and gives up on a late one', async () => {
    expect(await withDeadline(Promise.resolve(7), 20)).toBe(7);
    await expect(withDeadline(Promise.reject(new Error('refused')), 20)).rejects.toThrow('refused');
    const started = performance.now();
    await expect(withDeadline(new Promise(() => undefined), 30)).rejects.toThrow('no answer within 30 ms');
    expect(performance.now() - started).toBeGreaterThanOrEqual(29);
  });

  it('still reads an answer that arrived on a socket while the process was too busy to fire its timer on time', async () => {
    // The answering side must be another process (as Redis is): it answers while we are busy.
    const server = spawn(process.execPath, [
      '-e',
      "require('net').createServer((s) => s.on('data', () => s.write('+PONG\\r\\n'))).listen(0, '127.0.0.1', function () { console.log(this.address().port) })",
    ]);
    try {
      const [line] = await once(server.stdout!, 'data');
      const client = connect(Number(String(line).trim()), '127.0.0.1');
      await once(client, 'connect');
      const answer = once(client, 'data').then(([d]) => String(d).trim());
      const guarded = withDeadline(answer, 10);
      client.write('PING\r\n');
      const until = performance.now() + 60; // the answer arrives; the deadline's timer is overdue
      while (performance.now() < until) {
        /* busy */
      }
      expect(await guarded).toBe('+PONG');
      client.destroy();
    } finally {
      server.kill();
    }
  });
});
