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

/** Kinds a flood repeats request after request: one event per subject and reason per window. */
const COALESCED_KINDS = new Set(['rate-limited']);
const COALESCE_WINDOW_MS = 10_000;
const MAX_COALESCED_SUBJECTS = 10_000;

/**
 * Logs a security event at once (`event: "security"`) and stores it without holding the request:
 * the insert runs in the background, bounded so a flood of bad requests cannot pile up writes.
 *
 * A flood's refusals (kind `rate-limited`) are coalesced: the first for a subject (user or client
 * IP) and reason is logged and stored, the repeats within the next 10 s are only counted, and the
 * next event after that window carries `details.repeated` (how many were not written). Writing a
 * row and a log line for every 429 made each refusal cost about three times the CPU of a served
 * request (test-matrix X8), so a flooding tenant slowed everyone else down.
 */
export function createSecurityEventRecorder(service: string, sink: SecurityEventSink, logger: Logger, maxPending = 1000): SecurityEventRecorder {
  const pending = new Set<Promise<void>>();
  let dropped = 0;
  const windows = new Map<string, { since: number; repeated: number }>();

  /** Null when `e` repeats an event of its subject and reason within the window (it is counted instead). */
  function firstInWindow(e: SecurityEventInput): { repeated: number } | null {
    if (!COALESCED_KINDS.has(e.kind)) return { repeated: 0 };
    const key = `${e.kind}\n${e.reason}\n${e.userId ?? ''}\n${e.clientIp ?? ''}`;
    const now = Date.now();
    const open = windows.get(key);
    if (open && now - open.since < COALESCE_WINDOW_MS) {
      open.repeated += 1;
      return null;
    }
    if (windows.size >= MAX_COALESCED_SUBJECTS) {
      for (const [k, w] of windows) if (now - w.since >= COALESCE_WINDOW_MS) windows.delete(k);
      if (windows.size >= MAX_COALESCED_SUBJECTS) windows.clear();
    }
    windows.set(key, { since: now, repeated: 0 });
    return { repeated: open?.repeated ?? 0 };
  }

  return {
    record(input) {
      const window = firstInWindow(input);
      if (!window) return;
      const e = window.repeated > 0 ? { ...input, details: { ...input.details, repeated: window.repeated } } : input;
      logger.warn('security event', { event: 'security', kind: e.kind, reason: e.reason, requestId: e.requestId, userId: e.userId, clientIp: e.clientIp, ...(window.repeated > 0 ? { repeated: window.repeated } : {}) });
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
