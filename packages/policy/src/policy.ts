/** One group's access to one server: every tool (`*`) or the named ones. */
export interface Grant {
  group: string;
  serverId: string;
  tools: readonly string[];
  accessLevel: string;
}

/** What a decision needs to know about the caller. */
export interface Subject {
  admin: boolean;
  /** Grants of all the caller's groups. */
  grants: readonly Grant[];
  /** An API key's allow list (null: no narrowing) and block list. */
  allowServers: readonly string[] | null;
  blockServers: readonly string[];
}

export type DenyReason = 'blocked-by-key' | 'outside-key-allow-list' | 'no-grant' | 'tool-not-granted';
export type Decision =
  | { allow: true; reason: 'admin' | 'granted' }
  | { allow: false; reason: DenyReason };

const ALL = '*';

/** The key's lists narrow everyone, admins included; block wins over allow. */
function keyDenies(subject: Subject, serverId: string): Decision | null {
  if (subject.blockServers.includes(serverId)) return { allow: false, reason: 'blocked-by-key' };
  if (subject.allowServers !== null && !subject.allowServers.includes(serverId)) {
    return { allow: false, reason: 'outside-key-allow-list' };
  }
  return null;
}

/** May the subject use this server at all (see at least one of its tools)? Default deny. */
export function decideServer(subject: Subject, serverId: string): Decision {
  const denied = keyDenies(subject, serverId);
  if (denied) return denied;
  if (subject.admin) return { allow: true, reason: 'admin' };
  return subject.grants.some((g) => g.serverId === serverId && g.tools.length > 0)
    ? { allow: true, reason: 'granted' }
    : { allow: false, reason: 'no-grant' };
}

/** May the subject call this tool of this server? The union of its groups' grants. */
export function decideTool(subject: Subject, serverId: string, tool: string): Decision {
  const server = decideServer(subject, serverId);
  if (!server.allow || server.reason === 'admin') return server;
  const granted = subject.grants.some(
    (g) => g.serverId === serverId && (g.tools.includes(ALL) || g.tools.includes(tool)),
  );
  return granted ? { allow: true, reason: 'granted' } : { allow: false, reason: 'tool-not-granted' };
}

/**
 * The tools the subject may use on a server: `'all'`, or the set of granted names (possibly empty).
 * Listing and calling both go through here, so they cannot disagree.
 */
export function allowedTools(subject: Subject, serverId: string): 'all' | ReadonlySet<string> {
  const server = decideServer(subject, serverId);
  if (!server.allow) return new Set();
  if (server.reason === 'admin') return 'all';
  const names = new Set<string>();
  for (const g of subject.grants) {
    if (g.serverId !== serverId) continue;
    if (g.tools.includes(ALL)) return 'all';
    for (const t of g.tools) names.add(t);
  }
  return names;
}
