import type { Logger } from '@mcpgw/logger';

export interface PolledSnapshot<T> {
  /** The last value loaded (or the initial one until the first load succeeds). */
  current(): T;
  /** Loads now; false when the load failed (the previous value stays). */
  refresh(): Promise<boolean>;
  /** When the current value was loaded; null before the first successful load. */
  loadedAt(): Date | null;
  stop(): void;
}

export interface PolledSnapshotOptions<T> {
  /** For log lines: "rate-limit rules", "blocks". */
  name: string;
  load: () => Promise<T>;
  initial: T;
  intervalMs: number;
  logger: Logger;
  /** Called after every successful load. */
  onLoad?: (value: T) => void;
}

/**
 * A small table kept in memory and reloaded every `intervalMs` in the background, so requests read
 * it without waiting on the database, and a change takes effect within one interval. While the
 * database does not answer, the last value stays in force; one log line when loading starts to
 * fail and one when it works again.
 */
export function createPolledSnapshot<T>(options: PolledSnapshotOptions<T>): PolledSnapshot<T> {
  let value = options.initial;
  let loaded: Date | null = null;
  let failing = false;
  let inFlight: Promise<boolean> | null = null;

  const refresh = (): Promise<boolean> => {
    inFlight ??= (async () => {
      try {
        value = await options.load();
        loaded = new Date();
        options.onLoad?.(value);
        if (failing) options.logger.info(`${options.name} loaded again`);
        failing = false;
        return true;
      } catch (err) {
        if (!failing) options.logger.warn(`could not load ${options.name}; keeping the last ones loaded`, { err: (err as Error).message });
        failing = true;
        return false;
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  };

  void refresh();
  const timer = setInterval(() => void refresh(), Math.max(options.intervalMs, 100));
  timer.unref();
  return {
    current: () => value,
    refresh,
    loadedAt: () => loaded,
    stop: () => clearInterval(timer),
  };
}
