import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { quoteIdent } from './db.js';

export interface EmbeddedPostgresOptions {
  /** Folder for the data files; `memory://` keeps everything in memory. */
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  maxConnections?: number;
  /** Schema for mcpgw's tables (DB_SCHEMA); the embedded server's one session searches it first. */
  schema?: string;
}

export interface EmbeddedPostgres {
  /** A postgres:// URL any `pg` client can use. */
  url: string;
  stop(): Promise<void>;
}

/**
 * PGlite (Postgres compiled to WebAssembly) served over the Postgres wire protocol on loopback, so
 * every service talks plain `pg` whichever database runs. PGlite is one backend: the socket server
 * queues statements from all connections and keeps a transaction's statements together. Meant for
 * one machine; production uses a real Postgres through DATABASE_URL.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  if (options.dataDir !== 'memory://') await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  if (options.schema) {
    // PGlite is a single session shared by every connection, and it ignores the search_path
    // start-up option that createDb sends, so the path is set here once for all of them.
    const schema = quoteIdent(options.schema);
    await db.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}, public;`);
  }
  const host = options.host ?? '127.0.0.1';
  const server = new PGLiteSocketServer({ db, host, port: options.port ?? 0, maxConnections: options.maxConnections ?? 64 });
  keepExtendedQueriesTogether(server);
  await server.start();
  const conn = server.getServerConn(); // "host:port"
  const port = Number(conn.slice(conn.lastIndexOf(':') + 1));
  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/** The parts of pglite-socket's query queue (0.2.x, not exported) that the patch below touches. */
interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(bytes: number): void;
  reject(err: unknown): void;
  onData(data: Uint8Array): void;
}
interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId?: number;
  db: PGlite;
  processQueue(): Promise<void>;
  clearQueueForHandler(handlerId: number): void;
}

/** Messages of the extended query protocol that come before the Sync ending their sequence. */
const EXTENDED = new Set([0x50 /* Parse */, 0x42 /* Bind */, 0x44 /* Describe */, 0x45 /* Execute */, 0x43 /* Close */, 0x48 /* Flush */]);

/**
 * pglite-socket runs every connection's messages one at a time on the one PGlite backend, keeping a
 * transaction's together, but not an extended-protocol query's: `pg` sends Parse, Bind, Execute
 * and Sync as separate messages, and another connection's unnamed Parse landing between them
 * makes the first fail with "unnamed prepared statement does not exist" (seen when the services of
 * `npm start` query at the same moment). The queue is taught that a connection inside such a
 * sequence, or inside a transaction, keeps the backend until its Sync; the others wait.
 */
function keepExtendedQueriesTogether(server: PGLiteSocketServer): void {
  const queue = (server as unknown as { queryQueue: QueryQueue }).queryQueue;
  let owner: number | null = null;
  queue.processQueue = async function processQueue(this: QueryQueue): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const holder = owner ?? (this.db.isInTransaction() ? (this.lastHandlerId ?? null) : null);
        const index = holder === null ? 0 : this.queue.findIndex((q) => q.handlerId === holder);
        if (index === -1) break; // the holder's next message restarts the queue when it comes
        const [item] = this.queue.splice(index, 1) as [QueuedMessage];
        let bytes = 0;
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(item.message, { onRawData: (d: Uint8Array) => ((bytes += d.length), item.onData(d)) }));
        } catch (err) {
          owner = null;
          item.reject(err);
          continue;
        }
        owner = EXTENDED.has(item.message[0] ?? 0) ? item.handlerId : null;
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };
  const clear = queue.clearQueueForHandler.bind(queue);
  queue.clearQueueForHandler = (handlerId: number) => {
    clear(handlerId);
    if (owner === handlerId) {
      owner = null;
      void queue.processQueue();
    }
  };
}
