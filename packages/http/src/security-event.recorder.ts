import type { Logger } from '@mcpgw/logger';

export interface SecurityEventInput {
  kind: string;
  reason: string;
  userId?: string | null;
  userEmail?: string | null;
  clientIp?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/** Where events are stored: the security-event repository, or anything with its insert. */
export interface SecurityEventSink {
  insert(e: SecurityEventInput & { service: string }): Promise<void>;
}

export interface SecurityEventRecorder {
  record(e: SecurityEventInput): void;
  /** Resolves when every event recorded so far has been stored (or failed). */
  flush(): Promise<void>;
}

/**
 * Logs a security event at once (`event: "security"`) and stores it without holding the request:
 * the insert runs in the background, bounded so a flood of bad requests cannot pile up writes.
 */
export function createSecurityEventRecorder(service: string, sink: SecurityEventSink, logger: Logger, maxPending = 1000): SecurityEventRecorder {
  const pending = new Set<Promise<void>>();
  let dropped = 0;
  return {
    record(e) {
      logger.warn('security event', { event: 'security', kind: e.kind, reason: e.reason, requestId: e.requestId, userId: e.userId, clientIp: e.clientIp });
      if (pending.size >= maxPending) {
        dropped += 1;
        if (dropped === 1 || dropped % 1000 === 0) logger.error('security events not stored: too many pending writes', { dropped });
        return;
      }
      const p = sink
        .insert({ ...e, service })
        .catch((err: Error) => {
          logger.error('could not store security event', { kind: e.kind, err: err.message });
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}
