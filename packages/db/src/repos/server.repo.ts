import type { Queryable } from '../db.js';

export type Transport = 'streamable-http' | 'sse' | 'stdio';

/** An upstream MCP server as registered in mcpgw. */
export interface Server {
  id: string;
  name: string;
  description: string;
  transport: Transport;
  url: string | null;
  command: string | null;
  args: string[];
  env: Record<string, string>;
  authHeader: string;
  authFormat: string;
  enabled: boolean;
  connectTimeoutMs: number;
  callTimeoutMs: number;
}

const COLUMNS = `id, name, description, transport, url, command, args, env, auth_header AS "authHeader",
  auth_format AS "authFormat", enabled, connect_timeout_ms AS "connectTimeoutMs", call_timeout_ms AS "callTimeoutMs"`;

export interface NewServer {
  id: string;
  name: string;
  description?: string;
  transport: Transport;
  url?: string | null;
  command?: string | null;
  args?: string[];
  env?: Record<string, string>;
  authHeader?: string;
  authFormat?: string;
  enabled?: boolean;
  connectTimeoutMs?: number;
  callTimeoutMs?: number;
}

export function createServerRepo(db: Queryable) {
  return {
    async create(s: NewServer, q: Queryable = db): Promise<Server> {
      const { rows } = await q.query<Server>(
        `INSERT INTO servers (id, name, description, transport, url, command, args, env, auth_header, auth_format,
           enabled, connect_timeout_ms, call_timeout_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${COLUMNS}`,
        [
          s.id, s.name, s.description ?? '', s.transport, s.url ?? null, s.command ?? null,
          JSON.stringify(s.args ?? []), JSON.stringify(s.env ?? {}), s.authHeader ?? 'Authorization',
          s.authFormat ?? 'Bearer {key}', s.enabled ?? true, s.connectTimeoutMs ?? 10_000, s.callTimeoutMs ?? 60_000,
        ],
      );
      return rows[0]!;
    },
    async findById(id: string, q: Queryable = db): Promise<Server | null> {
      const { rows } = await q.query<Server>(`SELECT ${COLUMNS} FROM servers WHERE id = $1`, [id]);
      return rows[0] ?? null;
    },
    async list(q: Queryable = db): Promise<Server[]> {
      const { rows } = await q.query<Server>(`SELECT ${COLUMNS} FROM servers ORDER BY id`);
      return rows;
    },
    async listEnabled(q: Queryable = db): Promise<Server[]> {
      const { rows } = await q.query<Server>(`SELECT ${COLUMNS} FROM servers WHERE enabled ORDER BY id`);
      return rows;
    },
    async setUrl(id: string, url: string, q: Queryable = db): Promise<void> {
      await q.query('UPDATE servers SET url = $2, updated_at = now() WHERE id = $1', [id, url]);
    },
  };
}
export type ServerRepo = ReturnType<typeof createServerRepo>;
