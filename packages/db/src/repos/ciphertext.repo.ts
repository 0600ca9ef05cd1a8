import type { Queryable } from '../db.js';

/**
 * Every column that holds keyring ciphertext (`v1.<kid>.…`, see @mcpgw/crypto), with its primary
 * key. A new encrypted column must be listed here, or master-key rotation leaves it behind
 * (test/secrets-canary.int.test.ts checks the schema for columns holding ciphertext that are not).
 */
export const ENCRYPTED_COLUMNS = [
  { name: 'tenant_keys.ciphertext', table: 'tenant_keys', column: 'ciphertext', primaryKey: ['tenant_id', 'server_id'], keyIdColumn: 'key_id' },
  { name: 'signing_keys.private_key', table: 'signing_keys', column: 'private_key', primaryKey: ['kid'], keyIdColumn: null },
] as const;

export type EncryptedColumn = (typeof ENCRYPTED_COLUMNS)[number];

export interface StoredCiphertext {
  /** Primary key values, in the column's `primaryKey` order. */
  key: string[];
  ciphertext: string;
}

/** The key id is the second dot-separated field of the stored form, so SQL can count by it. */
const KID = (c: EncryptedColumn) => `split_part(${c.column}, '.', 2)`;

/** Reads and swaps keyring ciphertext in every encrypted column, for master-key rotation. */
export function createCiphertextRepo(db: Queryable) {
  return {
    /** How many stored values each master key id wraps, per column. */
    async countByKeyId(q: Queryable = db): Promise<{ column: string; keyId: string; count: number }[]> {
      const out: { column: string; keyId: string; count: number }[] = [];
      for (const c of ENCRYPTED_COLUMNS) {
        const { rows } = await q.query<{ keyId: string; count: number }>(
          `SELECT ${KID(c)} AS "keyId", count(*)::int AS count FROM ${c.table} GROUP BY 1 ORDER BY 1`,
        );
        out.push(...rows.map((r) => ({ column: c.name, ...r })));
      }
      return out;
    },
    /**
     * Up to `limit` values not wrapped by `keyId`, after `cursor` in primary-key order (keyset
     * paging: a value that cannot be rewrapped is skipped, not read again forever).
     */
    async listNotOnKey(c: EncryptedColumn, keyId: string, cursor: string[] | null, limit: number, q: Queryable = db): Promise<StoredCiphertext[]> {
      const pk = c.primaryKey.join(', ');
      const params: unknown[] = [keyId, limit];
      let after = '';
      if (cursor) {
        after = `AND (${pk}) > (${c.primaryKey.map((_, i) => `$${i + 3}`).join(', ')})`;
        params.push(...cursor);
      }
      const { rows } = await q.query<Record<string, string>>(
        `SELECT ${pk}, ${c.column} AS ciphertext FROM ${c.table} WHERE ${KID(c)} <> $1 ${after} ORDER BY ${pk} LIMIT $2`,
        params,
      );
      return rows.map((r) => ({ key: c.primaryKey.map((k) => r[k]!), ciphertext: r.ciphertext! }));
    },
    /**
     * Replaces each value only where it is still the one that was read (compare and swap), in one
     * statement, so a value changed meanwhile (a tenant key re-entered in the portal) is kept.
     * Returns how many rows changed.
     */
    async swap(c: EncryptedColumn, changes: { key: string[]; from: string; to: string; keyId: string }[], q: Queryable = db): Promise<number> {
      if (changes.length === 0) return 0;
      const pkCols = c.primaryKey.map((k) => `${k} text`).join(', ');
      const match = c.primaryKey.map((k) => `t.${k} = v.${k}`).join(' AND ');
      const setKeyId = c.keyIdColumn ? `, ${c.keyIdColumn} = v.key_id` : '';
      const records = changes.map((ch) => ({ ...Object.fromEntries(c.primaryKey.map((k, i) => [k, ch.key[i]])), from_ct: ch.from, to_ct: ch.to, key_id: ch.keyId }));
      const { rowCount } = await q.query(
        `UPDATE ${c.table} t SET ${c.column} = v.to_ct${setKeyId}
         FROM jsonb_to_recordset($1::jsonb) AS v(${pkCols}, from_ct text, to_ct text, key_id text)
         WHERE ${match} AND t.${c.column} = v.from_ct`,
        [JSON.stringify(records)],
      );
      return rowCount ?? 0;
    },
  };
}
export type CiphertextRepo = ReturnType<typeof createCiphertextRepo>;
