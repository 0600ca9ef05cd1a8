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
    /** Changes the given fields; the table's checks (url or command by transport) still apply. */
    async update(id: string, c: Partial<Omit<NewServer, 'id'>>, q: Queryable = db): Promise<Server | null> {
      const { rows } = await q.query<Server>(
        `UPDATE servers SET name = coalesce($2, name), description = coalesce($3, description), transport = coalesce($4, transport),
           url = CASE WHEN $5::boolean THEN $6 ELSE url END, command = CASE WHEN $7::boolean THEN $8 ELSE command END,
           args = coalesce($9::jsonb, args), env = coalesce($10::jsonb, env), auth_header = coalesce($11, auth_header),
           auth_format = coalesce($12, auth_format), enabled = coalesce($13, enabled),
           connect_timeout_ms = coalesce($14, connect_timeout_ms), call_timeout_ms = coalesce($15, call_timeout_ms), updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [
          id, c.name ?? null, c.description ?? null, c.transport ?? null, c.url !== undefined, c.url ?? null, c.command !== undefined,
          c.command ?? null, c.args ? JSON.stringify(c.args) : null, c.env ? JSON.stringify(c.env) : null, c.authHeader ?? null,
          c.authFormat ?? null, c.enabled ?? null, c.connectTimeoutMs ?? null, c.callTimeoutMs ?? null,
        ],
      );
      return rows[0] ?? null;
    },
    async remove(id: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('DELETE FROM servers WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },
    async setUrl(id: string, url: string, q: Queryable = db): Promise<void> {
      await q.query('UPDATE servers SET url = $2, updated_at = now() WHERE id = $1', [id, url]);
    },
  };
}
export type ServerRepo = ReturnType<typeof createServerRepo>;
