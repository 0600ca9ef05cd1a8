import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { API_KEY_PREFIX, generateApiKey, hashApiKey, looksLikeApiKey, randomSecret } from './index.js';

describe('generateApiKey', () => {
  it('is mcpgw_ followed by 43 base64url characters (256 bits)', () => {
    const { key } = generateApiKey();
    expect(API_KEY_PREFIX).toBe('mcpgw_');
    expect(key.startsWith('mcpgw_')).toBe(true);
    const body = key.slice('mcpgw_'.length);
    expect(body).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // 43 base64url characters without padding carry 32 bytes
    expect(Buffer.from(body, 'base64url')).toHaveLength(32);
    expect(Buffer.from(body, 'base64url').toString('base64url')).toBe(body);
  });

  it('stores only the sha256 hex of the key', () => {
    const { key, hash } = generateApiKey();
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hash).toBe(hashApiKey(key));
    expect(hash).not.toContain(key.slice(6));
  });

  it('has a display prefix of the first 12 characters (mcpgw_ plus 6)', () => {
    const { key, prefix } = generateApiKey();
    expect(prefix).toHaveLength(12);
    expect(prefix).toBe(key.slice(0, 12));
    expect(prefix.startsWith('mcpgw_')).toBe(true);
  });

  it('gives 1,000 distinct keys, hashes and (nearly always) prefixes', () => {
    const keys = Array.from({ length: 1_000 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.key)).size).toBe(1_000);
    expect(new Set(keys.map((k) => k.hash)).size).toBe(1_000);
    // 36 bits of prefix: a collision among 1,000 has probability ~7e-6
    expect(new Set(keys.map((k) => k.prefix)).size).toBeGreaterThanOrEqual(999);
  });

  it('uses the whole alphabet across many keys (not a narrowed character set)', () => {
    const chars = new Set(
      Array.from({ length: 200 }, () => generateApiKey().key.slice(6))
        .join('')
        .split(''),
    );
    expect(chars.size).toBe(64);
  });
});

describe('hashApiKey', () => {
  it('is deterministic and sensitive to every character', () => {
    const { key } = generateApiKey();
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    const last = key.at(-1) === 'A' ? 'B' : 'A';
    expect(hashApiKey(key.slice(0, -1) + last)).not.toBe(hashApiKey(key));
  });

  it('hashes the utf8 bytes', () => {
    expect(hashApiKey('ü')).toBe(createHash('sha256').update(Buffer.from([0xc3, 0xbc])).digest('hex'));
  });
});

describe('looksLikeApiKey', () => {
  it('accepts 100 generated keys', () => {
    for (let i = 0; i < 100; i++) expect(looksLikeApiKey(generateApiKey().key)).toBe(true);
  });

  const body = 'A'.repeat(43);
  it.each([
    ['empty', ''],
    ['prefix only', 'mcpgw_'],
    ['one character short', `mcpgw_${body.slice(1)}`],
    ['one character long', `mcpgw_${body}A`],
    ['upper-case prefix', `MCPGW_${body}`],
    ['other prefix', `mcpgx_${body}`],
    ['dash instead of underscore', `mcpgw-${body}`],
    ['no prefix', body + 'AAAAAA'],
    ['base64 "+"', `mcpgw_${body.slice(1)}+`],
    ['base64 "/"', `mcpgw_${body.slice(1)}/`],
    ['padding', `mcpgw_${body.slice(1)}=`],
    ['leading space', ` mcpgw_${body}`],
    ['trailing newline', `mcpgw_${body}\n`],
    ['bearer-prefixed', `Bearer mcpgw_${body}`],
    ['non-ASCII', `mcpgw_${body.slice(1)}é`],
  ])('rejects %s', (_label, value) => {
    expect(looksLikeApiKey(value)).toBe(false);
  });

  it('accepts the exact shape (control for the near-misses)', () => {
    expect(looksLikeApiKey(`mcpgw_${body}`)).toBe(true);
    expect(looksLikeApiKey(`mcpgw_${'-_'.repeat(21)}z`)).toBe(true);
  });
});

describe('randomSecret', () => {
  it('carries the requested number of bytes, base64url-encoded', () => {
    expect(Buffer.from(randomSecret(), 'base64url')).toHaveLength(32);
    expect(Buffer.from(randomSecret(16), 'base64url')).toHaveLength(16);
    expect(randomSecret(48)).toMatch(/^[A-Za-z0-9_-]{64}$/);
  });

  it('does not repeat', () => {
    expect(new Set(Array.from({ length: 1000 }, () => randomSecret())).size).toBe(1000);
  });
});
