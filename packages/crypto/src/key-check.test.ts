import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyCheckValue, MasterKeyMismatchError, verifyMasterKeys, type KeyCheckStore, type MasterKey } from './index.js';

/** The key check values behind C6, against an in-memory store with the database's first-writer-wins rule. */
function memoryStore(): KeyCheckStore & { rows: Map<string, string> } {
  const rows = new Map<string, string>();
  return {
    rows,
    find: async (ids) => new Map([...rows].filter(([id]) => ids.includes(id))),
    insertIfAbsent: async (id, kcv) => {
      if (!rows.has(id)) rows.set(id, kcv);
    },
  };
}
const key = (id: string): MasterKey => ({ id, key: randomBytes(32) });

describe('master key check values', () => {
  it('is a 64-hex HMAC that differs per key and reveals no key bytes', () => {
    const k = randomBytes(32);
    expect(keyCheckValue(k)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyCheckValue(k)).toBe(keyCheckValue(Buffer.from(k)));
    expect(keyCheckValue(randomBytes(32))).not.toBe(keyCheckValue(k));
    expect(keyCheckValue(k)).not.toContain(k.toString('hex').slice(0, 16));
  });

  it('records unseen keys, accepts the same keys again, and names every wrong one (never its bytes)', async () => {
    const store = memoryStore();
    const k1 = key('k1');
    const k2 = key('k2');
    await verifyMasterKeys([k2, k1], store);
    expect([...store.rows.keys()].sort()).toEqual(['k1', 'k2']);
    await expect(verifyMasterKeys([k2, k1], store)).resolves.toBeUndefined();
    await expect(verifyMasterKeys([key('k3'), k1], store)).resolves.toBeUndefined();

    const err = await verifyMasterKeys([key('k2'), key('k1')], store).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MasterKeyMismatchError);
    expect((err as MasterKeyMismatchError).keyIds).toEqual(['k2', 'k1']);
    expect((err as MasterKeyMismatchError).variable).toBe('MASTER_KEYS');
    expect((err as Error).message).toMatch(/^MASTER_KEYS is wrong: key ids "k2", "k1" did not match/);
  });

  it('lets the first of two services starting at once win: the other, with another key, is refused', async () => {
    const store = memoryStore();
    const a = key('k1');
    const b = key('k1');
    const results = await Promise.allSettled([verifyMasterKeys([a], store), verifyMasterKeys([b], store)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});
