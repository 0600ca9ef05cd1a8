import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, parseMasterKeys, type MasterKey } from './index.js';

const k1: MasterKey = { id: 'k1', key: randomBytes(32) };
const k2: MasterKey = { id: 'k2', key: randomBytes(32) };

const B64URL = /^[A-Za-z0-9_-]+$/;
const segments = (stored: string) => stored.split('.') as [string, string, string, string];

describe('keyring encrypt/decrypt', () => {
  const ring = createKeyring([k1]);

  it.each([
    'tenant-key-123',
    '',
    'ünïcødé ✓ 日本語 🔐 — "quotes" \\ back\nslash',
    'x'.repeat(10_000),
  ])('round-trips %#', (plaintext) => {
    const stored = ring.encrypt(plaintext);
    expect(ring.decrypt(stored)).toBe(plaintext);
  });

  it('has the documented stored form and does not contain the plaintext', () => {
    const stored = ring.encrypt('CANARY-plaintext-value');
    const [v, kid, wrapped, value] = segments(stored);
    expect(v).toBe('v1');
    expect(kid).toBe('k1');
    expect(wrapped).toMatch(B64URL);
    expect(value).toMatch(B64URL);
    // wrapped DEK: 12-byte IV + 32-byte DEK + 16-byte tag
    expect(Buffer.from(wrapped, 'base64url')).toHaveLength(12 + 32 + 16);
    // value: 12-byte IV + plaintext length + 16-byte tag
    expect(Buffer.from(value, 'base64url')).toHaveLength(12 + 'CANARY-plaintext-value'.length + 16);
    expect(stored).not.toContain('CANARY');
    expect(ring.currentKeyId).toBe('k1');
  });

  it('decrypts with the aad it was encrypted with', () => {
    const stored = ring.encrypt('secret', 'tenant:a');
    expect(ring.decrypt(stored, 'tenant:a')).toBe('secret');
  });

  it('fails on an aad mismatch (value moved to another row), including a missing aad', () => {
    const stored = ring.encrypt('secret', 'tenant:a');
    expect(() => ring.decrypt(stored, 'tenant:b')).toThrow();
    expect(() => ring.decrypt(stored)).toThrow();
    const noAad = ring.encrypt('secret');
    expect(() => ring.decrypt(noAad, 'tenant:a')).toThrow();
  });

  it('refuses a value stored under an unknown key id, naming it', () => {
    const other = createKeyring([k2]);
    const stored = ring.encrypt('secret');
    expect(() => other.decrypt(stored)).toThrow(/unknown master key id "k1"/);
    expect(() => other.keyIdOf(stored)).toThrow(/k1/);
    expect(() => other.rewrap(stored)).toThrow(/k1/);
  });

  it('refuses a value whose key id was relabelled to another known key', () => {
    const both = createKeyring([k1, k2]);
    const [, , wrapped, value] = segments(both.encrypt('secret'));
    expect(() => both.decrypt(`v1.k2.${wrapped}.${value}`)).toThrow();
  });

  it('refuses a key with the right id but the wrong bytes', () => {
    const stored = ring.encrypt('secret');
    const impostor = createKeyring([{ id: 'k1', key: randomBytes(32) }]);
    expect(() => impostor.decrypt(stored)).toThrow();
  });

  it.each([
    ['empty', ''],
    ['wrong version', (s: string) => s.replace(/^v1\./, 'v2.')],
    ['three segments', (s: string) => s.split('.').slice(0, 3).join('.')],
    ['five segments', (s: string) => `${s}.extra`],
    ['truncated value', (s: string) => s.slice(0, s.lastIndexOf('.') + 10)],
    ['empty value', (s: string) => s.slice(0, s.lastIndexOf('.') + 1)],
  ] as const)('refuses a structurally broken value (%s)', (_label, mutate) => {
    const stored = ring.encrypt('secret');
    const broken = typeof mutate === 'string' ? mutate : mutate(stored);
    expect(() => ring.decrypt(broken)).toThrow();
  });
});

describe('tamper: one flipped byte fails closed (C2)', () => {
  const ring = createKeyring([k1]);
  // lengths chosen so the value segment hits all three base64 tail shapes (len % 3 = 0, 1, 2)
  const plaintexts = ['tenant-api-key-0001', 'tenant-api-key-00001', 'tenant-api-key-000001', 'ü✓'];

  /** Every flip must throw; record anything else so the failure message shows it. */
  function expectAllThrow(label: string, tampered: Iterable<string>, plaintext: string) {
    const accepted: string[] = [];
    for (const t of tampered) {
      try {
        const out = ring.decrypt(t);
        const where = `${label} ${JSON.stringify(t)}`;
        accepted.push(out === plaintext ? `${where}: accepted unchanged` : `${where}: GARBAGE ${JSON.stringify(out)}`);
      } catch {
        // fail closed: expected
      }
    }
    expect(accepted).toEqual([]);
  }

  it.each(plaintexts)('every bit of every byte of both decoded segments (%j)', (plaintext) => {
    const stored = ring.encrypt(plaintext);
    const [v, kid, wrapped, value] = segments(stored);
    for (const [seg, index] of [
      [wrapped, 2],
      [value, 3],
    ] as const) {
      const bytes = Buffer.from(seg, 'base64url');
      const variants: string[] = [];
      for (let i = 0; i < bytes.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const copy = Buffer.from(bytes);
          copy[i]! ^= 1 << bit;
          const parts = [v, kid, wrapped, value];
          parts[index] = copy.toString('base64url');
          variants.push(parts.join('.'));
        }
      }
      expect(variants).toHaveLength(bytes.length * 8);
      expectAllThrow(`segment ${index}`, variants, plaintext);
    }
  });

  it.each(plaintexts)('every character of the stored text replaced by any other character (%j)', (plaintext) => {
    const stored = ring.encrypt(plaintext);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \n%';
    function* variants() {
      for (let i = 0; i < stored.length; i++) {
        for (const ch of alphabet) {
          if (ch !== stored[i]) yield stored.slice(0, i) + ch + stored.slice(i + 1);
        }
      }
    }
    expectAllThrow('char', variants(), plaintext);
  });

  it('the stored text with one byte XOR-ed at each position (as a database overlay would do)', () => {
    const plaintext = 'tenant-api-key-canary';
    const stored = ring.encrypt(plaintext);
    function* variants() {
      for (let i = 0; i < stored.length; i++) {
        for (const mask of [0x01, 0x02, 0x04, 0x08, 0x10, 0x20]) {
          yield stored.slice(0, i) + String.fromCharCode(stored.charCodeAt(i) ^ mask) + stored.slice(i + 1);
        }
      }
    }
    expectAllThrow('xor', variants(), plaintext);
  });

  it('swapping the wrapped DEKs of two values fails', () => {
    const a = segments(ring.encrypt('value a'));
    const b = segments(ring.encrypt('value b'));
    expect(() => ring.decrypt(`v1.k1.${b[2]}.${a[3]}`)).toThrow();
  });
});

describe('rotation', () => {
  it('moves a value from k1 to k2 without touching the plaintext, and only k2 is then needed', () => {
    const old = createKeyring([k1]);
    const stored = old.encrypt('tenant secret ✓', 'row:1');
    expect(old.keyIdOf(stored)).toBe('k1');

    const rotating = createKeyring([k2, k1]);
    expect(rotating.currentKeyId).toBe('k2');
    expect(rotating.decrypt(stored, 'row:1')).toBe('tenant secret ✓');

    const moved = rotating.rewrap(stored);
    expect(rotating.keyIdOf(moved)).toBe('k2');
    expect(moved).not.toBe(stored);
    // the value segment is kept as is: only the DEK is re-wrapped
    expect(segments(moved)[3]).toBe(segments(stored)[3]);
    expect(segments(moved)[2]).not.toBe(segments(stored)[2]);

    const retired = createKeyring([k2]);
    expect(retired.decrypt(moved, 'row:1')).toBe('tenant secret ✓');
    expect(() => retired.decrypt(stored, 'row:1')).toThrow(/unknown master key id "k1"/);
    expect(() => old.decrypt(moved, 'row:1')).toThrow(/unknown master key id "k2"/);
  });

  it('rewrap is a no-op for a value already under the current key', () => {
    const ring = createKeyring([k2, k1]);
    const stored = ring.encrypt('x');
    expect(ring.rewrap(stored)).toBe(stored);
  });

  it('new values go under the first (current) key', () => {
    expect(createKeyring([k2, k1]).keyIdOf(createKeyring([k2, k1]).encrypt('x'))).toBe('k2');
    expect(createKeyring([k1, k2]).keyIdOf(createKeyring([k1, k2]).encrypt('x'))).toBe('k1');
  });

  it('rewrap refuses a tampered wrapped DEK instead of re-sealing it', () => {
    const stored = createKeyring([k1]).encrypt('x');
    const [v, kid, wrapped, value] = segments(stored);
    const bytes = Buffer.from(wrapped, 'base64url');
    bytes[20]! ^= 0x80;
    expect(() => createKeyring([k2, k1]).rewrap([v, kid, bytes.toString('base64url'), value].join('.'))).toThrow();
  });

  it('refuses to build an empty keyring', () => {
    expect(() => createKeyring([])).toThrow(/at least one/);
  });
});

describe('uniqueness of IVs and ciphertexts (C4, bounded)', () => {
  it('10,000 encryptions of the same plaintext give distinct IVs, DEKs and ciphertexts', () => {
    const ring = createKeyring([k1]);
    const n = 10_000;
    const valueIvs = new Set<string>();
    const wrapIvs = new Set<string>();
    const values = new Set<string>();
    const wrapped = new Set<string>();
    for (let i = 0; i < n; i++) {
      const [, , w, v] = segments(ring.encrypt('same plaintext'));
      const wb = Buffer.from(w, 'base64url');
      const vb = Buffer.from(v, 'base64url');
      wrapIvs.add(wb.subarray(0, 12).toString('hex'));
      valueIvs.add(vb.subarray(0, 12).toString('hex'));
      wrapped.add(w);
      values.add(v);
    }
    expect(valueIvs.size).toBe(n);
    expect(wrapIvs.size).toBe(n);
    expect(values.size).toBe(n);
    expect(wrapped.size).toBe(n);
  });
});

describe('parseMasterKeys', () => {
  const b64 = (n: number) => randomBytes(n).toString('base64');

  it('parses one or several keys, first one first, trimming spaces and ignoring empty entries', () => {
    const a = b64(32);
    const b = b64(32);
    const keys = parseMasterKeys(` k2:${b} , k1:${a},`);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys[0]!.key.equals(Buffer.from(b, 'base64'))).toBe(true);
    expect(keys[1]!.key).toHaveLength(32);
  });

  it('accepts a key id with dashes and underscores and keys containing base64 "+/="', () => {
    const key = Buffer.alloc(32, 0xfb).toString('base64'); // "+/v7…=" characters
    expect(key).toMatch(/[+/=]/);
    expect(parseMasterKeys(`kek_2025-01:${key}`)[0]!.id).toBe('kek_2025-01');
  });

  it('builds a working keyring', () => {
    const ring = createKeyring(parseMasterKeys(`k1:${b64(32)}`));
    expect(ring.decrypt(ring.encrypt('ok'))).toBe('ok');
  });

  it.each([
    ['short key', `k1:${randomBytes(16).toString('base64')}`, /key "k1" must decode to 32 bytes \(got 16\)/],
    ['long key', `k1:${randomBytes(48).toString('base64')}`, /must decode to 32 bytes \(got 48\)/],
    ['empty key', 'k1:', /must decode to 32 bytes \(got 0\)/],
    ['duplicate ids', `k1:${randomBytes(32).toString('base64')},k1:${randomBytes(32).toString('base64')}`, /unique/],
    ['id with a dot', `k.1:${randomBytes(32).toString('base64')}`, /key id "k\.1" must be 1-32/],
    ['id with a space', `k 1:${randomBytes(32).toString('base64')}`, /key id "k 1"/],
    ['id too long', `${'k'.repeat(33)}:${randomBytes(32).toString('base64')}`, /must be 1-32/],
    ['no id', `:${randomBytes(32).toString('base64')}`, /kid:base64key/],
    ['no colon', randomBytes(32).toString('base64'), /kid:base64key/],
    ['empty input', '', /at least one key/],
    ['only separators', ' , ,', /at least one key/],
  ])('rejects %s with a message', (_label, input, message) => {
    expect(() => parseMasterKeys(input)).toThrow(message);
  });
});
