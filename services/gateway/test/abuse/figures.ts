import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const RESULTS = path.resolve(import.meta.dirname, '../../../../test/faults/results');

/**
 * The figures a matrix row records: one `[matrix ID] {json}` line in the test output, and
 * test/faults/results/<ID>.json (the format of the fault tests), which docs/security.md quotes.
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
