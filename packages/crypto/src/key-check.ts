import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MasterKey } from './keyring.js';

/**
 * Key check values (KCV): an HMAC of a fixed text under each master key, stored per key id at the
 * first start that sees the key. A service started later with a different key under the same id
 * (a typo, another environment's key) is stopped before it encrypts anything the others cannot
 * read, or fails every decrypt at run time. The HMAC reveals nothing of a 256-bit key.
 */
const CHECK_TEXT = 'mcpgw master key check v1';

export function keyCheckValue(key: Buffer): string {
  return createHmac('sha256', key).update(CHECK_TEXT).digest('hex');
}

/** Where the check values live (the database in production). */
export interface KeyCheckStore {
  /** Stored check values of these key ids. */
  find(keyIds: readonly string[]): Promise<Map<string, string>>;
  /** Stores the value unless one exists for the id already (first writer wins). */
  insertIfAbsent(keyId: string, checkValue: string): Promise<void>;
}

export class MasterKeyMismatchError extends Error {
  /** The variable at fault, for the start-up message (exit 78). */
  readonly variable = 'MASTER_KEYS';
  constructor(readonly keyIds: string[]) {
    super(
      `MASTER_KEYS is wrong: key id${keyIds.length > 1 ? 's' : ''} ${keyIds.map((id) => `"${id}"`).join(', ')} ` +
        'did not match the key check value stored in the database (a different key under the same id)',
    );
    this.name = 'MasterKeyMismatchError';
  }
}

/**
 * Records the check value of every configured key not seen before, then compares every configured
 * key with the stored value. Throws MasterKeyMismatchError naming the bad key ids (never the keys).
 */
export async function verifyMasterKeys(keys: readonly MasterKey[], store: KeyCheckStore): Promise<void> {
  const expected = new Map(keys.map((k) => [k.id, keyCheckValue(k.key)]));
  const before = await store.find([...expected.keys()]);
  for (const [id, kcv] of expected) if (!before.has(id)) await store.insertIfAbsent(id, kcv);
  // Read again: another service starting at the same moment may have written first.
  const stored = before.size === expected.size ? before : await store.find([...expected.keys()]);
  const bad = [...expected].filter(([id, kcv]) => {
    const s = stored.get(id);
    return s === undefined || s.length !== kcv.length || !timingSafeEqual(Buffer.from(s), Buffer.from(kcv));
  });
  if (bad.length > 0) throw new MasterKeyMismatchError(bad.map(([id]) => id));
}
