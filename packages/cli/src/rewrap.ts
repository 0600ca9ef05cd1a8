import type { Keyring } from '@mcpgw/crypto';
import { ENCRYPTED_COLUMNS, type CiphertextRepo } from '@mcpgw/db';

/**
 * Master-key rotation: moves every stored ciphertext to the current master key by re-wrapping its
 * data key (the value itself is not re-encrypted, so it is cheap and the plaintext never leaves
 * the keyring). Online: each batch is one compare-and-swap UPDATE, so readers see the old or the
 * new form, both of which decrypt while MASTER_KEYS holds both keys. Idempotent and resumable:
 * only values not yet on the current key are read, so a second run (or a run after an interrupted
 * one) continues where the first stopped and finds nothing left at the end.
 */
export interface RewrapOptions {
  batchSize: number;
  /** Called after each batch, for progress lines. */
  onBatch?: (progress: { column: string; rewrapped: number }) => void;
}

export interface KeyCount {
  column: string;
  keyId: string;
  count: number;
}

export interface RewrapReport {
  currentKeyId: string;
  /** Values moved to the current key by this run. */
  rewrapped: number;
  /** Values changed by someone else between read and write (already re-encrypted): left as they are. */
  changedMeanwhile: number;
  /** Values that cannot be unwrapped (unknown key id, tampered): left as they are, named by primary key. */
  failed: { column: string; key: string[]; error: string }[];
  /** After the run: how many values each key id wraps, per column. */
  remaining: KeyCount[];
  ms: number;
}

export async function rewrapAll(deps: { ciphertexts: CiphertextRepo; keyring: Keyring }, options: RewrapOptions): Promise<RewrapReport> {
  const started = performance.now();
  const { keyring, ciphertexts } = deps;
  const report: Omit<RewrapReport, 'remaining' | 'ms'> = { currentKeyId: keyring.currentKeyId, rewrapped: 0, changedMeanwhile: 0, failed: [] };
  for (const column of ENCRYPTED_COLUMNS) {
    let cursor: string[] | null = null;
    for (;;) {
      const rows = await ciphertexts.listNotOnKey(column, keyring.currentKeyId, cursor, options.batchSize);
      if (rows.length === 0) break;
      cursor = rows[rows.length - 1]!.key;
      const changes: { key: string[]; from: string; to: string; keyId: string }[] = [];
      for (const row of rows) {
        try {
          changes.push({ key: row.key, from: row.ciphertext, to: keyring.rewrap(row.ciphertext), keyId: keyring.currentKeyId });
        } catch (err) {
          report.failed.push({ column: column.name, key: row.key, error: (err as Error).message });
        }
      }
      const swapped = await ciphertexts.swap(column, changes);
      report.rewrapped += swapped;
      report.changedMeanwhile += changes.length - swapped;
      options.onBatch?.({ column: column.name, rewrapped: report.rewrapped });
    }
  }
  return { ...report, remaining: await ciphertexts.countByKeyId(), ms: Math.round(performance.now() - started) };
}

/** Per key id (all columns together): how many stored values it wraps. */
export function totalsByKeyId(counts: readonly KeyCount[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const c of counts) totals.set(c.keyId, (totals.get(c.keyId) ?? 0) + c.count);
  return totals;
}
