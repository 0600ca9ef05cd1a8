import type { Queryable } from '../db.js';

export interface Tenant {
  id: string;
  name: string;
}

export interface TenantKey {
  tenantId: string;
  serverId: string;
  ciphertext: string;
  keyId: string;
  last4: string;
  updatedAt: Date;
}

/** Tenants, their encrypted upstream keys and their endpoint overrides. */
export function createTenantRepo(db: Queryable) {
  return {
    async create(t: Tenant, q: Queryable = db): Promise<Tenant> {
      const { rows } = await q.query<Tenant>('INSERT INTO tenants (id, name) VALUES ($1, $2) RETURNING id, name', [t.id, t.name]);
      return rows[0]!;
    },
    async findById(id: string, q: Queryable = db): Promise<Tenant | null> {
      const { rows } = await q.query<Tenant>('SELECT id, name FROM tenants WHERE id = $1', [id]);
      return rows[0] ?? null;
    },
    async list(q: Queryable = db): Promise<Tenant[]> {
      const { rows } = await q.query<Tenant>('SELECT id, name FROM tenants ORDER BY id');
      return rows;
    },
    /** Every stored tenant key without its ciphertext: tenant, server, last 4 characters, update time. */
    async listKeys(filter: { tenantId?: string; serverId?: string } = {}, q: Queryable = db): Promise<Omit<TenantKey, 'ciphertext'>[]> {
      const { rows } = await q.query<Omit<TenantKey, 'ciphertext'>>(
        `SELECT tenant_id AS "tenantId", server_id AS "serverId", key_id AS "keyId", last4, updated_at AS "updatedAt" FROM tenant_keys
         WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR server_id = $2) ORDER BY tenant_id, server_id`,
        [filter.tenantId ?? null, filter.serverId ?? null],
      );
      return rows;
    },
    async removeKey(tenantId: string, serverId: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('DELETE FROM tenant_keys WHERE tenant_id = $1 AND server_id = $2', [tenantId, serverId]);
      return (rowCount ?? 0) > 0;
    },
    async listEndpoints(filter: { tenantId?: string; serverId?: string } = {}, q: Queryable = db): Promise<{ tenantId: string; serverId: string; url: string; updatedAt: Date }[]> {
      const { rows } = await q.query<{ tenantId: string; serverId: string; url: string; updatedAt: Date }>(
        `SELECT tenant_id AS "tenantId", server_id AS "serverId", url, updated_at AS "updatedAt" FROM tenant_endpoints
         WHERE ($1::text IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR server_id = $2) ORDER BY tenant_id, server_id`,
        [filter.tenantId ?? null, filter.serverId ?? null],
      );
      return rows;
    },
    async removeEndpoint(tenantId: string, serverId: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('DELETE FROM tenant_endpoints WHERE tenant_id = $1 AND server_id = $2', [tenantId, serverId]);
      return (rowCount ?? 0) > 0;
    },
    /** Stores ciphertext only; the caller encrypts. */
    async setKey(k: Omit<TenantKey, 'updatedAt'>, q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO tenant_keys (tenant_id, server_id, ciphertext, key_id, last4) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, server_id) DO UPDATE
           SET ciphertext = EXCLUDED.ciphertext, key_id = EXCLUDED.key_id, last4 = EXCLUDED.last4, updated_at = now()`,
        [k.tenantId, k.serverId, k.ciphertext, k.keyId, k.last4],
      );
    },
    async findKey(tenantId: string, serverId: string, q: Queryable = db): Promise<TenantKey | null> {
      const { rows } = await q.query<TenantKey>(
        `SELECT tenant_id AS "tenantId", server_id AS "serverId", ciphertext, key_id AS "keyId", last4, updated_at AS "updatedAt"
         FROM tenant_keys WHERE tenant_id = $1 AND server_id = $2`,
        [tenantId, serverId],
      );
      return rows[0] ?? null;
    },
    async setEndpoint(tenantId: string, serverId: string, url: string, q: Queryable = db): Promise<void> {
      await q.query(
        `INSERT INTO tenant_endpoints (tenant_id, server_id, url) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, server_id) DO UPDATE SET url = EXCLUDED.url, updated_at = now()`,
        [tenantId, serverId, url],
      );
    },
    async findEndpoint(tenantId: string, serverId: string, q: Queryable = db): Promise<string | null> {
      const { rows } = await q.query<{ url: string }>('SELECT url FROM tenant_endpoints WHERE tenant_id = $1 AND server_id = $2', [
        tenantId,
        serverId,
      ]);
      return rows[0]?.url ?? null;
    },
  };
}
export type TenantRepo = ReturnType<typeof createTenantRepo>;
