import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** test/faults/results at the repository root (git-ignored). */
const RESULTS = path.resolve(import.meta.dirname, '../../../test/faults/results');

/**
 * A test-matrix row's recorded figures, for docs/security.md and docs/operations.md to quote: one
 * line on stdout (`[matrix R1] {"row":"R1",...}`, easy to grep from a CI log) and the same JSON in
 * test/faults/results/<row>.json, stamped with the time and the Node version.
 */
export function recordFigures(row: string, figures: Record<string, unknown>): void {
  const record = { row, measuredAt: new Date().toISOString(), node: process.version, ...figures };
  // eslint-disable-next-line no-console
  console.log(`[matrix ${row}] ${JSON.stringify(record)}`);
  try {
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(path.join(RESULTS, `${row}.json`), `${JSON.stringify(record, null, 2)}\n`);
  } catch {
    // A read-only checkout still gets the line above.
  }
}
