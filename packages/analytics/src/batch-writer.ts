import type { Logger } from '@mcpgw/logger';

/** Where batches go: one call writes them all or throws (then the same rows are tried again). */
export interface BatchSink<T> {
  insertBatch(rows: readonly T[]): Promise<void>;
}

export interface BatchWriterOptions<T> {
  /** For log lines: "analytics". */
  name: string;
  sink: BatchSink<T>;
  logger: Logger;
  /** Rows held at most; a row recorded beyond this is dropped and counted. */
  maxBuffered: number;
  /** Rows per insert. */
  batchSize: number;
  /** A flush starts at least this often while rows wait (and at once when a batch is full). */
  flushIntervalMs: number;
  /** Longest wait between retries while the sink fails (the wait doubles from flushIntervalMs); default 2 s. */
  maxRetryDelayMs?: number;
}

export interface BatchWriterStats {
  /** Rows waiting in memory now. */
  queued: number;
  /** Most rows ever waiting at once. */
  highWater: number;
  written: number;
  dropped: number;
  /** Inserts that failed (their rows were kept and tried again). */
  failedFlushes: number;
  /** True while the sink is failing. */
  failing: boolean;
  maxBuffered: number;
}

export interface BatchWriter<T> {
  /** Never blocks, never throws: queues the row, or drops and counts it when the buffer is full. */
  record(row: T): void;
  /** Writes everything queued now (retrying until `deadlineMs` passes); resolves when done or out of time. */
  flush(deadlineMs?: number): Promise<void>;
  /** Stops the timer and flushes what is left within `deadlineMs`; rows still unwritten then are counted as dropped. */
  stop(deadlineMs?: number): Promise<void>;
  stats(): BatchWriterStats;
}

/**
 * Rows recorded on the request path go into a bounded in-memory queue; one background loop writes
 * them in batches, one insert at a time. When the sink fails (database down, locked, slow) the
 * rows stay queued and the loop retries with a growing delay, so nothing is lost while the outage
 * fits in the buffer; beyond it new rows are dropped and counted (never silently). One log line
 * when writing starts to fail, one when it works again.
 */
export function createBatchWriter<T>(options: BatchWriterOptions<T>): BatchWriter<T> {
  const { logger, name } = options;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 2_000;
  let queue: T[] = [];
  let head = 0; // rows before `head` are taken; compacted when a batch is taken
  let inFlight = 0; // rows of the insert under way (still in memory until it succeeds)
  const stats = { highWater: 0, written: 0, dropped: 0, failedFlushes: 0 };
  let failing = false;
  let failingSince = 0;
  let retryDelay = options.flushIntervalMs;
  let running: Promise<void> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const waiting = () => queue.length - head;
  /** Rows in memory not yet written: waiting, plus those of the insert under way. */
  const queued = () => waiting() + inFlight;

  function takeBatch(): T[] {
    const batch = queue.slice(head, head + options.batchSize);
    head += batch.length;
    if (head > 4096 && head * 2 > queue.length) {
      queue = queue.slice(head);
      head = 0;
    }
    return batch;
  }

  function putBack(batch: T[]): void {
    // Back to the front, in order; rows recorded meanwhile stay behind them.
    if (head >= batch.length) {
      head -= batch.length;
      for (let i = 0; i < batch.length; i++) queue[head + i] = batch[i]!;
    } else {
      queue = [...batch, ...queue.slice(head)];
      head = 0;
    }
  }

  /** Writes batches until the queue is empty or an insert fails; returns false on failure. */
  async function drain(): Promise<boolean> {
    while (waiting() > 0) {
      const batch = takeBatch();
      inFlight = batch.length;
      try {
        await options.sink.insertBatch(batch);
        inFlight = 0;
        stats.written += batch.length;
        if (failing) {
          logger.info(`${name}: writing again`, { waitedMs: Date.now() - failingSince, queued: queued() });
          failing = false;
        }
        retryDelay = options.flushIntervalMs;
      } catch (err) {
        inFlight = 0;
        putBack(batch);
        stats.failedFlushes += 1;
        if (!failing) {
          failing = true;
          failingSince = Date.now();
          logger.warn(`${name}: cannot write; rows wait in memory and are written when it works again`, {
            err: (err as Error).message,
            queued: queued(),
            maxBuffered: options.maxBuffered,
          });
        }
        retryDelay = Math.min(retryDelay * 2, maxRetryDelayMs);
        return false;
      }
    }
    return true;
  }

  function run(): Promise<void> {
    running ??= drain()
      .then(() => undefined)
      .finally(() => {
        running = null;
        schedule();
      });
    return running;
  }

  function schedule(delay = failing ? retryDelay : options.flushIntervalMs): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = null;
      if (waiting() > 0) void run();
      else schedule();
    }, delay);
    timer.unref();
  }

  async function flushUntil(deadline: number): Promise<void> {
    for (;;) {
      if (running) await running;
      if (waiting() === 0 || Date.now() >= deadline) return;
      const ok = await drain();
      if (ok || Date.now() >= deadline) continue;
      await new Promise((r) => setTimeout(r, Math.min(retryDelay, Math.max(0, deadline - Date.now()))));
    }
  }

  schedule();
  return {
    record(row) {
      if (stopped || queued() >= options.maxBuffered) {
        stats.dropped += 1;
        if (stats.dropped === 1 || stats.dropped % 10_000 === 0) {
          logger.error(`${name}: buffer full, rows dropped`, { dropped: stats.dropped, maxBuffered: options.maxBuffered });
        }
        return;
      }
      queue.push(row);
      const n = queued();
      if (n > stats.highWater) stats.highWater = n;
      if (n >= options.batchSize && !running && !failing) void run();
    },
    flush: (deadlineMs = 10_000) => flushUntil(Date.now() + deadlineMs),
    async stop(deadlineMs = 10_000) {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await flushUntil(Date.now() + deadlineMs);
      const left = queued();
      if (left > 0) {
        stats.dropped += left;
        logger.error(`${name}: rows not written at shutdown`, { lost: left });
        queue = [];
        head = 0;
      }
    },
    stats: () => ({ queued: queued(), ...stats, failing, maxBuffered: options.maxBuffered }),
  };
}
