import type { Logger } from '@mcpgw/logger';

export interface RetentionOptions {
  /** For log lines: "analytics". */
  name: string;
  /** Deletes up to `batchSize` rows older than `cutoff`, returns how many. */
  purge(cutoff: Date, batchSize: number): Promise<number>;
  retentionDays: number;
  /** How often a purge runs. */
  intervalMs: number;
  batchSize: number;
  /** Pause between two batches, so a large backlog never holds the table or the pool for long. */
  pauseMs?: number;
  logger: Logger;
  now?: () => number;
}

export interface RetentionPurger {
  /** Deletes everything older than the retention, batch by batch; returns the rows deleted. */
  runOnce(): Promise<number>;
  stop(): void;
}

/** Runs the purge shortly after start and then every `intervalMs`, one run at a time. */
export function createRetentionPurger(options: RetentionOptions): RetentionPurger {
  const now = options.now ?? Date.now;
  let running: Promise<number> | null = null;
  let stopped = false;

  async function purgeAll(): Promise<number> {
    const cutoff = new Date(now() - options.retentionDays * 86_400_000);
    let total = 0;
    const started = Date.now();
    for (;;) {
      if (stopped) break;
      const n = await options.purge(cutoff, options.batchSize);
      total += n;
      if (n < options.batchSize) break;
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 50));
    }
    if (total > 0) options.logger.info(`${options.name}: retention purge`, { deleted: total, olderThan: cutoff.toISOString(), ms: Date.now() - started });
    return total;
  }

  const runOnce = () => {
    running ??= purgeAll()
      .catch((err: Error) => {
        options.logger.warn(`${options.name}: retention purge failed; next run will retry`, { err: err.message });
        return 0;
      })
      .finally(() => (running = null));
    return running;
  };

  const first = setTimeout(() => void runOnce(), Math.min(60_000, options.intervalMs));
  first.unref();
  const timer = setInterval(() => void runOnce(), options.intervalMs);
  timer.unref();
  return {
    runOnce,
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
