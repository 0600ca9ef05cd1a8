import type { Server, ServerRepo } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import type { BreakerState } from './circuit-breaker.js';
import type { UpstreamPool } from './upstream-pool.js';
import { UpstreamUnavailableError } from './upstream.errors.js';

export type HealthStatus = 'up' | 'degraded' | 'down' | 'unknown';

export interface ServerHealth {
  status: HealthStatus;
  /** ISO times of the last check and of the last check that succeeded. */
  checkedAt: string | null;
  lastOkAt: string | null;
  /** Why the last failing check failed (scrubbed of tenant keys); null after a success. */
  lastError: string | null;
  latencyMs: number | null;
  /** The worst breaker state among the server's targets. */
  breaker: BreakerState;
}

export interface HealthMonitorDeps {
  servers: Pick<ServerRepo, 'listEnabled'>;
  upstreams: Pick<UpstreamPool, 'ping' | 'tenantsOf' | 'breakerOf'>;
  logger: Logger;
  /** 0: no periodic check (checkAll can still be called). */
  intervalMs: number;
}

export interface HealthMonitor {
  /** Pings every enabled server once; resolves when all answered or failed. */
  checkAll(): Promise<void>;
  healthOf(serverId: string): ServerHealth;
  close(): void;
}

const BREAKER_ORDER: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The periodic health check of upstream servers: a ping over each live pooled connection of the
 * server (one per tenant that uses it), or over a new connection without a tenant when there is
 * none. Checks go even while a breaker is open (they are its probes: a success closes it, so a
 * restarted server is back without waiting for a caller to try). A server is up when every
 * target answered, degraded when some did, down when none did or a breaker is open.
 */
export function createHealthMonitor(deps: HealthMonitorDeps): HealthMonitor {
  const state = new Map<string, Omit<ServerHealth, 'breaker'> & { tenants: (string | null)[] }>();
  let running: Promise<void> | undefined;

  async function checkOne(server: Server): Promise<void> {
    const live = deps.upstreams.tenantsOf(server.id);
    const tenants = live.length > 0 ? live : [null];
    const results = await Promise.all(
      tenants.map(async (tenantId) => {
        try {
          const latency = await deps.upstreams.ping(server, tenantId, { timeoutMs: server.connectTimeoutMs, requestId: 'health-check', probe: true });
          return { ok: true as const, latency };
        } catch (err) {
          return { ok: false as const, error: err instanceof UpstreamUnavailableError ? err.message : (err as Error).message };
        }
      }),
    );
    const now = new Date().toISOString();
    const before = state.get(server.id);
    const ok = results.filter((r) => r.ok);
    const failed = results.filter((r) => !r.ok);
    const status: HealthStatus = failed.length === 0 ? 'up' : ok.length === 0 ? 'down' : 'degraded';
    if (status !== (before?.status ?? 'unknown')) deps.logger.info('upstream server health changed', { serverId: server.id, status, err: failed[0]?.error });
    state.set(server.id, {
      status,
      checkedAt: now,
      lastOkAt: ok.length > 0 ? now : (before?.lastOkAt ?? null),
      lastError: failed[0]?.error ?? null,
      latencyMs: ok.length > 0 ? Math.max(...ok.map((r) => r.latency)) : null,
      tenants,
    });
  }

  async function checkAll(): Promise<void> {
    const servers = await deps.servers.listEnabled();
    await Promise.all(servers.map(checkOne));
  }

  const tick = () => {
    running ??= checkAll()
      .catch((err: Error) => {
        deps.logger.warn('health check failed', { err: err.message });
      })
      .finally(() => {
        running = undefined;
      });
  };
  const timer = deps.intervalMs > 0 ? setInterval(tick, deps.intervalMs) : undefined;
  timer?.unref();

  return {
    checkAll,
    healthOf(serverId) {
      const checked = state.get(serverId);
      const tenants = checked?.tenants ?? [null];
      const breaker = tenants
        .map((t) => deps.upstreams.breakerOf(serverId, t).state)
        .reduce<BreakerState>((worst, s) => (BREAKER_ORDER[s] > BREAKER_ORDER[worst] ? s : worst), 'closed');
      const base = checked ?? { status: 'unknown' as const, checkedAt: null, lastOkAt: null, lastError: null, latencyMs: null };
      const status = breaker === 'open' ? 'down' : base.status;
      return { status, checkedAt: base.checkedAt, lastOkAt: base.lastOkAt, lastError: base.lastError, latencyMs: base.latencyMs, breaker };
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
