import { allowedTools, decideServer, type Subject } from '@mcpgw/policy';
import type { Scope } from './caller.js';

/** What a caller may see on one endpoint, as two comparable strings: the servers, and the tools per server. */
export interface Visibility {
  servers: string;
  tools: string;
}

/**
 * A fingerprint of the caller's catalog as policy shapes it (not what the upstream servers offer):
 * when it changes, running sessions are told with list_changed. Pure: subject and enabled servers in.
 */
export function visibilityOf(subject: Subject, enabledServerIds: readonly string[], scope: Scope): Visibility {
  const ids = enabledServerIds
    .filter((id) => (scope.kind === 'all' || id === scope.serverId) && decideServer(subject, id).allow)
    .sort();
  const tools = ids.map((id) => {
    const allowed = allowedTools(subject, id);
    return `${id}:${allowed === 'all' ? '*' : [...allowed].sort().join(',')}`;
  });
  return { servers: ids.join(','), tools: tools.join(';') };
}
