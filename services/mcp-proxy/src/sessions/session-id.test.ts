import { describe, expect, it } from 'vitest';
import { newSessionId, SESSION_ID_BYTES } from './session-id.js';

const COUNT = 100_000;

/**
 * Test matrix M3: session ids are at least 128 bits from a CSPRNG, not sequential, visible ASCII
 * only. 100,000 ids: length and alphabet, no duplicate, every bit position about half ones, every
 * character about equally frequent, and no order between consecutive ids.
 */
describe('session ids (M3)', () => {
  const ids = Array.from({ length: COUNT }, () => newSessionId());

  it('are 256 bits, base64url (visible ASCII), all different', () => {
    expect(SESSION_ID_BYTES * 8).toBeGreaterThanOrEqual(128);
    const shape = /^[A-Za-z0-9_-]{43}$/;
    expect(ids.filter((id) => !shape.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(COUNT);
  });

  it('look uniformly random: every bit about half ones, characters equally frequent, consecutive ids unrelated', () => {
    const ones = new Array<number>(SESSION_ID_BYTES * 8).fill(0);
    const chars = new Int32Array(128);
    let ascending = 0;
    for (let i = 0; i < COUNT; i++) {
      const bytes = Buffer.from(ids[i]!, 'base64url');
      for (let byte = 0; byte < SESSION_ID_BYTES; byte++) {
        const value = bytes[byte]!;
        for (let bit = 0; bit < 8; bit++) ones[byte * 8 + bit]! += (value >> bit) & 1;
      }
      // The first 42 characters carry 6 bits each; the 43rd only 4.
      for (let c = 0; c < 42; c++) chars[ids[i]!.charCodeAt(c)]! += 1;
      if (i > 0 && ids[i]! > ids[i - 1]!) ascending += 1;
    }
    // Binomial(100000, 0.5): sd 158; 6 sd is about 950.
    expect(Math.max(...ones.map((n) => Math.abs(n - COUNT / 2)))).toBeLessThan(950);
    // Chi-square over the 64 characters, 63 degrees of freedom: 99.99th percentile about 120.
    const expected = (COUNT * 42) / 64;
    const seen = [...chars].filter((n) => n > 0);
    const chiSquare = seen.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(seen.length).toBe(64);
    expect(chiSquare).toBeLessThan(120);
    // Sequential ids would ascend every time; random ones half the time.
    expect(Math.abs(ascending / (COUNT - 1) - 0.5)).toBeLessThan(0.01);
    // Shannon entropy per character, close to the 6 bits of the alphabet.
    const entropy = -seen.reduce((h, n) => h + (n / (COUNT * 42)) * Math.log2(n / (COUNT * 42)), 0);
    expect(entropy).toBeGreaterThan(5.99);
    console.info(`M3: ${COUNT} ids, 0 duplicates, 256 bits each, chi-square ${chiSquare.toFixed(1)} (63 df), ${entropy.toFixed(4)} bits per character`);
  });

  it('carry the gateway instance tag in front when given', () => {
    expect(newSessionId('abc123')).toMatch(/^abc123\.[A-Za-z0-9_-]{43}$/);
  });
});
