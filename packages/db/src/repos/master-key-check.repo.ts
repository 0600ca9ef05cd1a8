import type { Queryable } from '../db.js';

/** Key check values of the master keys, by key id (see @mcpgw/crypto verifyMasterKeys). */
export function createMasterKeyCheckRepo(db: Queryable) {
  return {
    async find(keyIds: readonly string[], q: Queryable = db): Promise<Map<string, string>> {
      const { rows } = await q.query<{ keyId: string; checkValue: string }>(
        'SELECT key_id AS "keyId", check_value AS "checkValue" FROM master_key_checks WHERE key_id = ANY($1::text[])',
        [keyIds],
      );
      return new Map(rows.map((r) => [r.keyId, r.checkValue]));
    },
    async insertIfAbsent(keyId: string, checkValue: string, q: Queryable = db): Promise<void> {
      await q.query('INSERT INTO master_key_checks (key_id, check_value) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING', [keyId, checkValue]);
    },
    async remove(keyId: string, q: Queryable = db): Promise<boolean> {
      const { rowCount } = await q.query('DELETE FROM master_key_checks WHERE key_id = $1', [keyId]);
      return (rowCount ?? 0) > 0;
    },
  };
}
export type MasterKeyCheckRepo = ReturnType<typeof createMasterKeyCheckRepo>;
