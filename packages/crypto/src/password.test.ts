import { describe, expect, it } from 'vitest';
import { createDecoyPasswordHash, digestsEqual, hashPassword, hashSecret, verifyPassword } from './index.js';

describe('hashPassword / verifyPassword', () => {
  it('stores scrypt with its parameters and a random salt, never the password', async () => {
    const a = await hashPassword('correct horse battery staple');
    const b = await hashPassword('correct horse battery staple');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('horse');
  });

  it('accepts the password and refuses any other', async () => {
    const stored = await hashPassword('Sësame, öffne dich!');
    expect(await verifyPassword('Sësame, öffne dich!', stored)).toBe(true);
    expect(await verifyPassword('Sësame, öffne dich', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('treats canonically equivalent Unicode spellings as the same password (NFKC)', async () => {
    const stored = await hashPassword('caf\u00e9-password');
    expect(await verifyPassword('cafe\u0301-password', stored)).toBe(true);
  });

  it.each(['', 'plain', 'scrypt$1$1$1$x$y', 'bcrypt$2b$10$abc'])('refuses a malformed stored hash %j', async (stored) => {
    expect(await verifyPassword('x', stored)).toBe(false);
  });

  it('the decoy hash is well-formed and matches nothing a caller would guess', async () => {
    const decoy = await createDecoyPasswordHash();
    expect(decoy).toMatch(/^scrypt\$/);
    expect(await verifyPassword('password', decoy)).toBe(false);
  });
});

describe('hashSecret / digestsEqual', () => {
  it('is the SHA-256 hex of the secret', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
  it('compares digests of equal and unequal length without throwing', () => {
    expect(digestsEqual(hashSecret('a'), hashSecret('a'))).toBe(true);
    expect(digestsEqual(hashSecret('a'), hashSecret('b'))).toBe(false);
    expect(digestsEqual(hashSecret('a'), 'short')).toBe(false);
  });
});
