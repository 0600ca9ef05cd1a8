import type { ServerResponse } from 'node:http';
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@mcpgw/logger';
import type { SessionDirectory, SessionInitialize, SessionOwner, SessionRecord } from './session-directory.js';
import { INSTANCE_TAG, newSessionId } from './session-id.js';
import { SessionTransport, type McpRequest } from './session-transport.js';

/**
 * The session layer of the downstream MCP endpoints, all of it: ids, binding to the identity and
 * endpoint that opened a session, idle expiry, the per-user cap, the SDK transport each session
 * runs on, and making a session again on a replica that did not open it. Nothing else in mcp-proxy
 * knows sessions exist beyond `open`, `find` and `handle`, so a stateless protocol era
 * (2026-07-28) can be put beside this one later.
 *
 * Two layers:
 * - the **directory** (session-directory.ts): the records, i.e. what a session *is* (owner,
 *   endpoint, negotiated version, the caller's capabilities, relay state). In this process, or in
 *   Redis where every replica sees them. It owns idle expiry and the per-user cap.
 * - this **store**: what *runs* here for a session (transport, MCP server, upstream links). A
 *   request for a session this process does not hold is served by making it again from its record
 *   (`connect` + the replayed initialize), so a replica's loss does not end sessions.
 */

export type { SessionOwner, SessionRecord } from './session-directory.js';
export type { McpRequest } from './session-transport.js';

export interface Closable {
  close(): Promise<void>;
}

/** What `connect` gets besides the transport: the session's record and a way to save its state. */
export interface SessionHandle {
  readonly id: string;
  readonly record: SessionRecord;
  /** Replaces the record's relay state (stored in the directory; failures are logged, not thrown). */
  saveState(state: Record<string, unknown>): void;
}

/** Attaches mcp-proxy's MCP server to a session's transport and returns what closes it. */
export type SessionConnector<T extends Closable> = (transport: SessionTransport, session: SessionHandle) => Promise<T>;

export interface McpSession<T extends Closable = Closable> {
  readonly id: string;
  /** What `connect` attached to the session (mcp-proxy's MCP server and relay state). */
  readonly attached: T;
  /** Handles one HTTP request of this session: the initialize that opens it, later POSTs, GET, DELETE. */
  handle(req: McpRequest, res: ServerResponse, body: unknown): Promise<void>;
}

/** A session about to be opened by an initialize request. */
export interface NewSession {
  owner: SessionOwner;
  /** The initialize request's params as the caller sent them. */
  initialize: { protocolVersion: string; capabilities?: SessionInitialize['capabilities']; clientInfo: SessionInitialize['clientInfo'] };
  context: unknown;
  /** The gateway's tag for this instance (INSTANCE_TAG), put in front of the id. */
  instanceTag?: string;
}

export interface SessionStoreOptions {
  /** A session unused this long is closed (here, and in the directory). */
  idleMs: number;
  directory: SessionDirectory;
  logger: Logger;
}

export interface SessionStore<T extends Closable = Closable> {
  /** Whether sessions outlive this process (a shared directory). */
  readonly shared: boolean;
  /**
   * A new session for `owner`. `connect` attaches an MCP server to the session's transport. The
   * session is registered only when its initialize succeeds.
   */
  open(session: NewSession, connect: SessionConnector<T>): Promise<McpSession<T>>;
  /**
   * The session, if it exists and belongs to `owner` (a session of anyone else is "not found"):
   * the one running here, or one made again here from its record with `connect`.
   */
  find(id: string, owner: SessionOwner, connect: SessionConnector<T>): Promise<McpSession<T> | undefined>;
  /**
   * Shutdown, first step: ends the streams callers hold open (the GET streams), so they reconnect
   * (to another replica); requests in flight carry on.
   */
  drain(): void;
  /** Closes sessions idle here for longer than idleMs; returns how many. Runs on a timer too. */
  sweep(): Promise<number>;
  /** Sessions running in this process. */
  size(): number;
  /** Closes every session running here. With a shared directory their records stay: other replicas go on serving them. */
  closeAll(): Promise<void>;
}

interface Entry<T extends Closable> {
  session: McpSession<T>;
  transport: SessionTransport;
  record: SessionRecord;
  owner: SessionOwner;
  lastSeen: number;
  /** False while the directory could not be told of the session (it was down): registered with a later use. */
  listed: boolean;
}

/** The version the SDK server answers an initialize with: the caller's when supported, else the latest. */
function negotiated(requested: string): string {
  return SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

const sameOwner = (a: SessionOwner, b: SessionOwner) => a.userId === b.userId && a.scope === b.scope;

export function createSessionStore<T extends Closable = Closable>(options: SessionStoreOptions): SessionStore<T> {
  const { logger, directory } = options;
  const entries = new Map<string, Entry<T>>();
  /** Sessions being made again here, so concurrent requests for one share the work. */
  const reviving = new Map<string, Promise<McpSession<T> | undefined>>();

  const unavailable = (what: string, err: unknown) =>
    logger.warn(`session directory unavailable: ${what}`, { err: (err as Error).message, shared: directory.shared });

  /** Closes what runs here for a session; `forget` also removes its record (the session ends everywhere). */
  async function closeHere(id: string, why: string, forget: boolean): Promise<void> {
    const entry = entries.get(id);
    if (forget && (entry || !directory.shared)) {
      await directory.remove(id, entry?.owner.userId ?? '').catch((err: unknown) => unavailable('remove', err));
    }
    if (!entry) return;
    entries.delete(id);
    logger.debug('mcp session closed here', { userId: entry.owner.userId, why });
    await entry.transport.close().catch((err: Error) => logger.warn('closing an mcp session failed', { err: err.message }));
  }

  /**
   * A transport for session `id` and the session around it, attached by `connect`. `onReady` runs
   * when the transport has accepted the session's initialize (the caller's, or the replayed one).
   */
  async function build(id: string, record: SessionRecord, connect: SessionConnector<T>, onReady: (entry: Entry<T>) => Promise<void>) {
    let ready = false;
    let attached: T | undefined;
    let entry: Entry<T> | undefined;
    const transport = new SessionTransport({
      sessionIdGenerator: () => id,
      onsessioninitialized: async () => {
        ready = true;
        await onReady(entry!);
      },
      // The caller's DELETE: the session ends everywhere.
      onsessionclosed: async () => {
        await directory.remove(id, record.owner.userId).catch((err: unknown) => unavailable('remove', err));
      },
    });
    // Set before connect: the MCP server chains its own close handler onto this one. Closing the
    // transport (DELETE, idle, eviction, shutdown) closes what was attached to it (idempotently).
    transport.onclose = () => {
      if (entries.get(id)?.transport === transport) entries.delete(id);
      void attached?.close().catch(() => undefined);
    };
    const handle: SessionHandle = {
      id,
      record,
      saveState(state) {
        record.state = state;
        directory.update(id, record).catch((err: unknown) => unavailable('saving session state', err));
      },
    };
    attached = await connect(transport, handle);
    const closable = attached;
    const session: McpSession<T> = {
      id,
      attached: closable,
      async handle(req, res, body) {
        await transport.handle(req, res, body);
        // An initialize the transport refused (bad Accept, bad version…) leaves nothing behind.
        if (!ready) await closable.close().catch(() => undefined);
      },
    };
    entry = { session, transport, record, owner: record.owner, lastSeen: Date.now(), listed: true };
    return { entry, transport, isReady: () => ready };
  }

  async function revive(id: string, owner: SessionOwner, connect: SessionConnector<T>): Promise<McpSession<T> | undefined> {
    let record: SessionRecord | undefined;
    try {
      record = await directory.get(id);
    } catch (err) {
      // Unknown here and no way to look it up: the caller starts a new session (404), as for an expired one.
      unavailable('a session opened elsewhere cannot be looked up', err);
      return undefined;
    }
    if (!record || !sameOwner(record.owner, owner)) return undefined;
    const built = await build(id, record, connect, async (entry) => {
      entries.set(id, entry);
    });
    try {
      await built.transport.replayInitialize(record.initialize);
    } catch (err) {
      await built.transport.close().catch(() => undefined);
      throw err;
    }
    await directory.touch(id, owner.userId).catch((err: unknown) => unavailable('touch', err));
    logger.info('mcp session taken over from its record', { userId: owner.userId, scope: owner.scope });
    return built.entry.session;
  }

  /** Registers a session in the directory; evicts the owner's sessions beyond the cap. */
  async function list(id: string, entry: Entry<T>): Promise<void> {
    let evicted: string[] = [];
    try {
      evicted = await directory.add(id, entry.record);
      entry.listed = true;
    } catch (err) {
      entry.listed = false;
      unavailable('the session is served by this replica only until the directory is back', err);
    }
    for (const other of evicted) void closeHere(other, 'per-user session limit', false);
  }

  async function sweep(): Promise<number> {
    const cutoff = Date.now() - options.idleMs;
    const idle = [...entries].filter(([, e]) => e.lastSeen < cutoff).map(([id]) => id);
    // Idle here is not idle everywhere: with a shared directory, Redis expires the record itself.
    await Promise.all(idle.map((id) => closeHere(id, 'idle', !directory.shared)));
    return idle.length;
  }

  const timer = setInterval(() => void sweep(), Math.min(Math.max(options.idleMs / 4, 250), 60_000));
  timer.unref();

  return {
    shared: directory.shared,

    async open(request, connect) {
      const id = newSessionId(request.instanceTag && INSTANCE_TAG.test(request.instanceTag) ? request.instanceTag : undefined);
      const record: SessionRecord = {
        owner: request.owner,
        initialize: {
          protocolVersion: negotiated(request.initialize.protocolVersion),
          capabilities: request.initialize.capabilities ?? {},
          clientInfo: request.initialize.clientInfo,
        },
        context: request.context,
        state: {},
        createdAt: Date.now(),
      };
      const built = await build(id, record, connect, async (entry) => {
        entries.set(id, entry);
        await list(id, entry);
      });
      return built.entry.session;
    },

    async find(id, owner, connect) {
      const entry = entries.get(id);
      if (entry) {
        if (!sameOwner(entry.owner, owner)) return undefined;
        entry.lastSeen = Date.now();
        if (!entry.listed) {
          await list(id, entry);
          return entry.session;
        }
        let alive = true;
        try {
          alive = await directory.touch(id, owner.userId);
        } catch (err) {
          // The directory is down: what runs here goes on being served.
          unavailable('touch', err);
        }
        if (!alive) {
          // Ended elsewhere: DELETE through another replica, evicted by the cap, or expired.
          await closeHere(id, 'ended elsewhere', false);
          return undefined;
        }
        return entry.session;
      }
      // Keyed by owner too: someone else presenting the id cannot spoil the owner's revival.
      const key = `${id}\n${owner.userId}\n${owner.scope}`;
      let pending = reviving.get(key);
      if (!pending) {
        pending = revive(id, owner, connect).finally(() => reviving.delete(key));
        reviving.set(key, pending);
      }
      return pending;
    },

    drain() {
      for (const entry of entries.values()) entry.transport.closeStandaloneSSEStream();
    },

    sweep,
    size: () => entries.size,

    async closeAll() {
      clearInterval(timer);
      await Promise.all([...entries.keys()].map((id) => closeHere(id, 'shutdown', !directory.shared)));
    },
  };
}
