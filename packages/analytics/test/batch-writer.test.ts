import { describe, expect, it } from 'vitest';
import { captureLogger, silentLogger, waitFor } from '@mcpgw/test-support';
import { createBatchWriter, createRetentionPurger, type BatchSink } from '../src/index.js';

/** A sink that stores rows and can be made to fail, like a database going away. */
function fakeSink() {
  const rows: number[] = [];
  const batches: number[] = [];
  const state = { failing: false, delayMs: 0 };
  const sink: BatchSink<number> = {
    async insertBatch(batch) {
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      if (state.failing) throw new Error('connection refused');
      rows.push(...batch);
      batches.push(batch.length);
    },
  };
  return { sink, rows, batches, state };
}

const options = { name: 'analytics', batchSize: 10, flushIntervalMs: 20, maxBuffered: 100 };

describe('batch writer', () => {
  it('writes rows in batches of at most batchSize, in order, without being asked', async () => {
    const { sink, rows, batches } = fakeSink();
    const w = createBatchWriter({ ...options, sink, logger: silentLogger() });
    for (let i = 0; i < 35; i++) w.record(i);
    await waitFor(() => rows.length === 35, 2_000, 5);
    expect(rows).toEqual([...Array(35).keys()]);
    expect(Math.max(...batches)).toBeLessThanOrEqual(10);
    expect(w.stats()).toMatchObject({ queued: 0, written: 35, dropped: 0, highWater: expect.any(Number) });
    await w.stop();
  });

  it('keeps rows while the sink fails and writes all of them, once and in order, when it works again', async () => {
    const { sink, rows, state } = fakeSink();
    const { logger, lines } = captureLogger();
    const w = createBatchWriter({ ...options, sink, logger, maxRetryDelayMs: 50 });
    state.failing = true;
    for (let i = 0; i < 60; i++) w.record(i);
    await waitFor(() => w.stats().failedFlushes >= 3, 2_000, 5);
    expect(w.stats()).toMatchObject({ queued: 60, written: 0, dropped: 0, failing: true });
    state.failing = false;
    await waitFor(() => rows.length === 60, 2_000, 5);
    expect(rows).toEqual([...Array(60).keys()]);
    expect(w.stats()).toMatchObject({ queued: 0, written: 60, dropped: 0, failing: false });
    expect(lines.filter((l) => l.includes('cannot write'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('writing again'))).toHaveLength(1);
    await w.stop();
  });

  it('is bounded: beyond maxBuffered rows are dropped and counted, never silently', async () => {
    const { sink, rows, state } = fakeSink();
    const { logger, lines } = captureLogger();
    const w = createBatchWriter({ ...options, sink, logger });
    state.failing = true;
    for (let i = 0; i < 130; i++) w.record(i);
    expect(w.stats()).toMatchObject({ queued: 100, dropped: 30, highWater: 100 });
    expect(lines.some((l) => l.includes('buffer full'))).toBe(true);
    state.failing = false;
    await w.flush(2_000);
    expect(rows).toEqual([...Array(100).keys()]);
    await w.stop();
  });

  it('flushes what is queued on stop, and counts what it could not write before the deadline', async () => {
    const ok = fakeSink();
    const w1 = createBatchWriter({ ...options, flushIntervalMs: 60_000, sink: ok.sink, logger: silentLogger() });
    for (let i = 0; i < 7; i++) w1.record(i);
    await w1.stop(1_000);
    expect(ok.rows).toHaveLength(7);

    const down = fakeSink();
    down.state.failing = true;
    const w2 = createBatchWriter({ ...options, sink: down.sink, logger: silentLogger() });
    for (let i = 0; i < 5; i++) w2.record(i);
    const started = Date.now();
    await w2.stop(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(w2.stats()).toMatchObject({ queued: 0, dropped: 5, written: 0 });
    w2.record(99);
    expect(w2.stats().dropped).toBe(6); // nothing is accepted after stop
  });

  it('never has more than one insert in flight (a slow database is not hammered)', async () => {
    let inFlight = 0;
    let most = 0;
    const sink: BatchSink<number> = {
      async insertBatch() {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight -= 1;
      },
    };
    const w = createBatchWriter({ ...options, sink, logger: silentLogger() });
    for (let i = 0; i < 95; i++) w.record(i);
    await w.flush(5_000);
    expect(w.stats().written).toBe(95);
    expect(most).toBe(1);
    await w.stop();
  });
});

describe('retention purger', () => {
  it('deletes in batches until a batch comes back short, with the cutoff retentionDays ago', async () => {
    const cutoffs: Date[] = [];
    let left = 12_345;
    const now = Date.UTC(2026, 0, 31);
    const p = createRetentionPurger({
      name: 'analytics',
      retentionDays: 90,
      intervalMs: 3_600_000,
      batchSize: 5_000,
      pauseMs: 1,
      logger: silentLogger(),
      now: () => now,
      purge: async (cutoff, batch) => {
        cutoffs.push(cutoff);
        const n = Math.min(left, batch);
        left -= n;
        return n;
      },
    });
    try {
      expect(await p.runOnce()).toBe(12_345);
      expect(cutoffs).toHaveLength(3);
      expect(cutoffs[0]!.getTime()).toBe(now - 90 * 86_400_000);
    } finally {
      p.stop();
    }
  });

  it('survives a failing purge (the next run retries)', async () => {
    const p = createRetentionPurger({
      name: 'analytics',
      retentionDays: 1,
      intervalMs: 3_600_000,
      batchSize: 10,
      logger: silentLogger(),
      purge: async () => {
        throw new Error('db down');
      },
    });
    expect(await p.runOnce()).toBe(0);
    p.stop();
  });
});
