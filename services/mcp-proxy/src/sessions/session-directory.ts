import type { ClientCapabilities, Implementation } from '@modelcontextprotocol/sdk/types.js';

/** Who opened a session and on which endpoint (`scopeKey`); only the same pair may use it. */
export interface SessionOwner {
  userId: string;
  scope: string;
}

/** The initialize a session was opened with: enough to make its transport and MCP server again. */
export interface SessionInitialize {
  /** The protocol version negotiated at initialize (the caller's when supported, else the latest). */
  protocolVersion: string;
  capabilities: ClientCapabilities;
  clientInfo: Implementation;
}

/**
 * Everything any replica needs to serve a session it did not open. Plain JSON: it is stored in
 * Redis when sessions are shared.
 */
export interface SessionRecord {
  owner: SessionOwner;
  initialize: SessionInitialize;
  /** Data of the endpoint that opened it (mcp-proxy: its scope and how it introduced itself). */
  context: unknown;
  /** State of the relay that must outlive a replica (log level, subscriptions), saved as it changes. */
  state: Record<string, unknown>;
  createdAt: number;
}

/**
 * Where session records live: in this process (one replica), or in Redis, where every replica
 * finds them. The directory owns idle expiry and the per-user cap; the session store owns what
 * runs in this process (transports, MCP servers) and asks the directory whether a session still
 * exists.
 *
 * Methods reject when the directory cannot be reached (Redis down); the store then serves what it
 * holds and says so in the log.
 */
export interface SessionDirectory {
  /** True when other processes see the same records (a session outlives the replica that opened it). */
  readonly shared: boolean;
  /**
   * Registers a new session. Returns the ids of the owner's sessions beyond the cap, least recently
   * used first, which it has already removed (their holders close them).
   */
  add(id: string, record: SessionRecord): Promise<string[]>;
  /** The record of a live session; undefined when unknown, expired, evicted or ended. */
  get(id: string): Promise<SessionRecord | undefined>;
  /** A use of the session: restarts its idle time. False when the session no longer exists. */
  touch(id: string, userId: string): Promise<boolean>;
  /** Stores a changed record (its state) of a live session; a session that ended stays ended. */
  update(id: string, record: SessionRecord): Promise<void>;
  remove(id: string, userId: string): Promise<void>;
}

export interface DirectoryLimits {
  /** A session unused this long expires. */
  idleMs: number;
  /** Sessions per user; one more evicts that user's least recently used. */
  maxPerUser: number;
}

/**
 * Which of a user's sessions go when one more is opened: given every live session of the user
 * (with its last use), all but the `max` most recently used, never `keep` (the new one).
 */
export function beyondCap(sessions: { id: string; lastSeen: number }[], max: number, keep: string): string[] {
  if (sessions.length <= max) return [];
  return [...sessions]
    .sort((a, b) => a.lastSeen - b.lastSeen)
    .map((s) => s.id)
    .filter((id) => id !== keep)
    .slice(0, sessions.length - max);
}

/** The directory of a single replica: maps in this process. */
export function createLocalSessionDirectory(limits: DirectoryLimits): SessionDirectory {
  const entries = new Map<string, { record: SessionRecord; lastSeen: number }>();
  const byUser = new Map<string, Set<string>>();
  const drop = (id: string) => {
    const entry = entries.get(id);
    if (!entry) return;
    entries.delete(id);
    const ids = byUser.get(entry.record.owner.userId);
    ids?.delete(id);
    if (ids?.size === 0) byUser.delete(entry.record.owner.userId);
  };
  const live = (id: string) => {
    const entry = entries.get(id);
    if (entry && entry.lastSeen < Date.now() - limits.idleMs) {
      drop(id);
      return undefined;
    }
    return entry;
  };
  return {
    shared: false,
    async add(id, record) {
      const { userId } = record.owner;
      entries.set(id, { record, lastSeen: Date.now() });
      byUser.set(userId, (byUser.get(userId) ?? new Set()).add(id));
      const mine = [...byUser.get(userId)!].flatMap((other) => {
        const entry = live(other);
        return entry ? [{ id: other, lastSeen: entry.lastSeen }] : [];
      });
      const evicted = beyondCap(mine, limits.maxPerUser, id);
      for (const other of evicted) drop(other);
      return evicted;
    },
    async get(id) {
      return live(id)?.record;
    },
    async touch(id, userId) {
      const entry = live(id);
      if (!entry || entry.record.owner.userId !== userId) return false;
      entry.lastSeen = Date.now();
      return true;
    },
    async update(id, record) {
      const entry = live(id);
      if (entry) entry.record = record;
    },
    async remove(id) {
      drop(id);
    },
  };
}
