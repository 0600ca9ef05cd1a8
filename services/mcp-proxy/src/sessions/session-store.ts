import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { Logger } from '@mcpgw/logger';

/**
 * The session layer of the downstream MCP endpoints, all of it: ids, binding to the identity and
 * endpoint that opened a session, idle expiry, the per-user cap, and the SDK transport each session
 * runs on. Nothing else in mcp-proxy knows sessions exist beyond `open`, `find` and `handle`, so a
 * stateless protocol era (2026-07-28) or a Redis-backed store can be put beside this one later.
 */

/** Who opened a session and on which endpoint (`scopeKey`); only the same pair may use it. */
export interface SessionOwner {
  userId: string;
  scope: string;
}

export interface Closable {
  close(): Promise<void>;
}

export type McpRequest = IncomingMessage & { auth?: AuthInfo };

export interface McpSession<T extends Closable = Closable> {
  readonly id: string;
  /** What `connect` attached to the session (mcp-proxy's MCP server and relay state). */
  readonly attached: T;
  /** Handles one HTTP request of this session: the initialize that opens it, later POSTs, GET, DELETE. */
  handle(req: McpRequest, res: ServerResponse, body: unknown): Promise<void>;
}

export interface SessionStoreOptions {
  /** A session unused this long is closed. */
  idleMs: number;
  /** Open sessions per user; one more closes that user's least recently used one. */
  maxPerUser: number;
  logger: Logger;
}

export interface SessionStore<T extends Closable = Closable> {
  /**
   * A new session for `owner`. `connect` attaches an MCP server to the session's transport and
   * returns what closes it. The session is registered only when its initialize succeeds.
   */
  open(owner: SessionOwner, connect: (transport: StreamableHTTPServerTransport) => Promise<T>): Promise<McpSession<T>>;
  /** The session, if it exists and belongs to `owner`; a session of anyone else is "not found". */
  find(id: string, owner: SessionOwner): McpSession<T> | undefined;
  /** Closes sessions idle for longer than idleMs; returns how many. Runs on a timer too. */
  sweep(): Promise<number>;
  size(): number;
  closeAll(): Promise<void>;
}

interface Entry<T extends Closable> {
  session: McpSession<T>;
  owner: SessionOwner;
  closable: Closable;
  lastSeen: number;
}

/** 256 random bits, base64url: visible ASCII as the spec requires, unguessable. */
function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export function createSessionStore<T extends Closable = Closable>(options: SessionStoreOptions): SessionStore<T> {
  const { logger } = options;
  const entries = new Map<string, Entry<T>>();

  async function closeEntry(id: string, why: string): Promise<void> {
    const entry = entries.get(id);
    if (!entry) return;
    entries.delete(id);
    logger.debug('mcp session closed', { userId: entry.owner.userId, why });
    await entry.closable.close().catch((err: Error) => logger.warn('closing an mcp session failed', { err: err.message }));
  }

  function register(id: string, entry: Entry<T>): void {
    entries.set(id, entry);
    const mine = [...entries].filter(([, e]) => e.owner.userId === entry.owner.userId);
    if (mine.length <= options.maxPerUser) return;
    mine.sort(([, a], [, b]) => a.lastSeen - b.lastSeen);
    for (const [oldId] of mine.slice(0, mine.length - options.maxPerUser)) {
      if (oldId !== id) void closeEntry(oldId, 'per-user session limit');
    }
  }

  async function sweep(): Promise<number> {
    const cutoff = Date.now() - options.idleMs;
    const idle = [...entries].filter(([, e]) => e.lastSeen < cutoff).map(([id]) => id);
    await Promise.all(idle.map((id) => closeEntry(id, 'idle')));
    return idle.length;
  }

  const timer = setInterval(() => void sweep(), Math.min(Math.max(options.idleMs / 4, 250), 60_000));
  timer.unref();

  return {
    async open(owner, connect) {
      const id = newSessionId();
      let registered = false;
      let attached: T | undefined;
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => id,
        onsessioninitialized: () => {
          registered = true;
          register(id, { session, owner, closable, lastSeen: Date.now() });
        },
      });
      // Set before connect: the MCP server chains its own close handler onto this one. A session
      // ended by the caller's DELETE closes what was attached to it too (close must be idempotent).
      transport.onclose = () => {
        entries.delete(id);
        void attached?.close().catch(() => undefined);
      };
      const closable = await connect(transport);
      attached = closable;
      const session: McpSession<T> = {
        id,
        attached: closable,
        async handle(req, res, body) {
          await transport.handleRequest(req, res, body);
          // An initialize the transport refused (bad Accept, bad version…) leaves nothing behind.
          if (!registered) await closable.close().catch(() => undefined);
        },
      };
      return session;
    },

    find(id, owner) {
      const entry = entries.get(id);
      if (!entry || entry.owner.userId !== owner.userId || entry.owner.scope !== owner.scope) return undefined;
      entry.lastSeen = Date.now();
      return entry.session;
    },

    sweep,
    size: () => entries.size,

    async closeAll() {
      clearInterval(timer);
      await Promise.all([...entries.keys()].map((id) => closeEntry(id, 'shutdown')));
    },
  };
}
