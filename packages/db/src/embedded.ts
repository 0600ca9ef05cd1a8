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
