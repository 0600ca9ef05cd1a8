import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption with AES-256-GCM. Each value gets its own random data key (DEK); the DEK is
 * wrapped with a master key (KEK) named by a key id. Rotation adds a new master key first in the
 * list; old values keep decrypting until `rewrap` moves them to the current key.
 *
 * Stored form (ASCII): `v1.<kid>.<wrapped DEK: iv|ct|tag, base64url>.<value: iv|ct|tag, base64url>`
 */
export interface MasterKey {
  id: string;
  key: Buffer;
}

export interface Keyring {
  readonly currentKeyId: string;
  encrypt(plaintext: string, aad?: string): string;
  decrypt(stored: string, aad?: string): string;
  /** Re-wraps the data key under the current master key; the value itself is not re-encrypted. */
  rewrap(stored: string): string;
  keyIdOf(stored: string): string;
}

const IV = 12;
const TAG = 16;
const KID = /^[A-Za-z0-9_-]{1,32}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Strict base64url: Node's decoder skips stray characters, accepts `+/` and ignores the unused low
 * bits of the last character, so several texts decode to the same bytes. Only the canonical text
 * is accepted, so any change to a stored value is detected.
 */
function decodeSegment(segment: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url');
  if (!B64URL.test(segment) || bytes.toString('base64url') !== segment) throw new Error('not an mcpgw ciphertext');
  return bytes;
}

/** Parses `MASTER_KEYS`: `kid:base64key[,kid:base64key…]`, the first one current. */
export function parseMasterKeys(value: string): MasterKey[] {
  const keys = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const at = entry.indexOf(':');
      if (at <= 0) throw new Error('each entry must be kid:base64key');
      const id = entry.slice(0, at);
      if (!KID.test(id)) throw new Error(`key id "${id}" must be 1-32 of [A-Za-z0-9_-]`);
      const key = Buffer.from(entry.slice(at + 1), 'base64');
      if (key.length !== 32) throw new Error(`key "${id}" must decode to 32 bytes (got ${key.length})`);
      return { id, key };
    });
  if (keys.length === 0) throw new Error('at least one key is required');
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new Error('key ids must be unique');
  return keys;
}

function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ct, cipher.getAuthTag()]);
}

function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV + TAG) throw new Error('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  return Buffer.concat([decipher.update(sealed.subarray(IV, sealed.length - TAG)), decipher.final()]);
}

export function createKeyring(keys: readonly MasterKey[]): Keyring {
  const current = keys[0];
  if (!current) throw new Error('keyring needs at least one master key');
  const byId = new Map(keys.map((k) => [k.id, k.key]));

  function parse(stored: string) {
    const parts = stored.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') throw new Error('not an mcpgw ciphertext');
    const [, kid, wrapped, value] = parts as [string, string, string, string];
    const kek = byId.get(kid);
    if (!kek) throw new Error(`unknown master key id "${kid}"`);
    return { kid, kek, wrapped: decodeSegment(wrapped), value: decodeSegment(value) };
  }

  return {
    currentKeyId: current.id,
    encrypt(plaintext, aad = '') {
      const dek = randomBytes(32);
      const wrapped = seal(current.key, dek, `dek:${current.id}`);
      const value = seal(dek, Buffer.from(plaintext, 'utf8'), aad);
      return `v1.${current.id}.${wrapped.toString('base64url')}.${value.toString('base64url')}`;
    },
    decrypt(stored, aad = '') {
      const p = parse(stored);
      const dek = open(p.kek, p.wrapped, `dek:${p.kid}`);
      return open(dek, p.value, aad).toString('utf8');
    },
    rewrap(stored) {
      const p = parse(stored);
      if (p.kid === current.id) return stored;
      const dek = open(p.kek, p.wrapped, `dek:${p.kid}`);
      const wrapped = seal(current.key, dek, `dek:${current.id}`);
      return `v1.${current.id}.${wrapped.toString('base64url')}.${p.value.toString('base64url')}`;
    },
    keyIdOf(stored) {
      return parse(stored).kid;
    },
  };
}
