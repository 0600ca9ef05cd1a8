import type { ApiKeyRepo } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';

export interface KeyUsageRecorder {
  record(keyId: string): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Remembers when each key was last used and writes all of them in one statement every
 * `intervalMs`, so using a key never costs a database write per request.
 */
export function createKeyUsageRecorder(repo: Pick<ApiKeyRepo, 'touchLastUsed'>, logger: Logger, intervalMs = 30_000): KeyUsageRecorder {
  let pending = new Map<string, Date>();
  const flush = async () => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      await repo.touchLastUsed(batch);
    } catch (err) {
      logger.warn('could not record API key use; will retry', { err: (err as Error).message, keys: batch.size });
      for (const [id, at] of batch) if (!pending.has(id)) pending.set(id, at);
    }
  };
  const timer = setInterval(() => void flush(), intervalMs);
  timer.unref();
  return {
    record(keyId) {
      pending.set(keyId, new Date());
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
}
