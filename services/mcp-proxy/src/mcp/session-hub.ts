import type { ServerRepo } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import { decideServer } from '@mcpgw/policy';
import type { SubjectResolver } from '../domain/subject.resolver.js';
import { visibilityOf } from '../domain/visibility.js';
import type { UpstreamNotification, UpstreamPool } from '../upstream/upstream-pool.js';
import type { SessionLink } from './session-link.js';

const LIST_CHANGED = new Set(['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed']);

export interface SessionHubDeps {
  upstreams: Pick<UpstreamPool, 'onNotification'>;
  subjects: SubjectResolver;
  servers: Pick<ServerRepo, 'listEnabled'>;
  logger: Logger;
  /** How often running sessions are checked for grant changes (0: never). */
  watchIntervalMs: number;
}

export interface SessionHub {
  add(link: SessionLink): void;
  remove(link: SessionLink): void;
  /** One round of the grant watch (runs on a timer too); resolves when every changed session was told. */
  checkGrants(): Promise<void>;
  close(): void;
}

/**
 * The open sessions, for what concerns many of them:
 * - list_changed arriving on a pooled connection goes to every session that uses that connection
 *   (same server, same tenant, not over an own connection) and may use the server. Other
 *   notifications on pooled connections (log messages) belong to no caller and are dropped.
 * - The grant watch: every interval, each session's catalog as policy shapes it is compared with
 *   what it was; a change (a grant added or removed, a server enabled or disabled) sends
 *   tools/list_changed, and prompts and resources list_changed when the set of servers changed.
 */
export function createSessionHub(deps: SessionHubDeps): SessionHub {
  const links = new Set<SessionLink>();
  let running: Promise<void> | undefined;

  async function mayUse(link: SessionLink, serverId: string): Promise<boolean> {
    if (link.scope.kind === 'server' && link.scope.serverId !== serverId) return false;
    return decideServer(await deps.subjects.subjectFor(link.identity), serverId).allow;
  }

  function onPooled(event: UpstreamNotification): void {
    if (!LIST_CHANGED.has(event.notification.method)) return;
    for (const link of links) {
      if (link.tenantId !== event.tenantId || link.usesOwnConnection(event.serverId)) continue;
      void mayUse(link, event.serverId)
        .then((ok) => (ok ? link.notify({ method: event.notification.method }) : undefined))
        .catch((err: Error) => deps.logger.debug('list_changed not relayed', { serverId: event.serverId, err: err.message }));
    }
  }

  async function checkGrants(): Promise<void> {
    if (links.size === 0) return;
    const enabled = (await deps.servers.listEnabled()).map((s) => s.id);
    await Promise.all(
      [...links].map(async (link) => {
        const now = visibilityOf(await deps.subjects.subjectFor(link.identity), enabled, link.scope);
        const before = link.visibility;
        link.visibility = now;
        if (!before) return;
        if (before.tools !== now.tools) await link.notify({ method: 'notifications/tools/list_changed' });
        if (before.servers !== now.servers) {
          await link.notify({ method: 'notifications/prompts/list_changed' });
          await link.notify({ method: 'notifications/resources/list_changed' });
        }
      }),
    );
  }

  function tick(): void {
    running ??= checkGrants()
      .catch((err: Error) => {
        deps.logger.warn('grant watch failed', { err: err.message });
      })
      .finally(() => {
        running = undefined;
      });
  }

  const stop = deps.upstreams.onNotification(onPooled);
  const timer = deps.watchIntervalMs > 0 ? setInterval(tick, deps.watchIntervalMs) : undefined;
  timer?.unref();

  return {
    add(link) {
      // No query here: opening a session is Open WebUI's hot path (one per chat turn). The first
      // round of the watch takes the session's baseline, so a change within a session's first
      // interval is not announced (its next list shows it).
      links.add(link);
    },
    remove(link) {
      links.delete(link);
    },
    checkGrants,
    close() {
      if (timer) clearInterval(timer);
      stop();
      links.clear();
    },
  };
}
