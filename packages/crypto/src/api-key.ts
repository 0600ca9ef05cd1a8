import { createHash } from 'node:crypto';
import { randomSecret } from './random.js';

export const API_KEY_PREFIX = 'mcpgw_';
const DISPLAY_LENGTH = API_KEY_PREFIX.length + 6;
const SHAPE = /^mcpgw_[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  /** The key itself: shown once, never stored. */
  key: string;
  /** SHA-256 of the key, hex: the only form stored. */
  hash: string;
  /** The first characters, stored for display (`mcpgw_AbC123`). */
  prefix: string;
}

/** A new `mcpgw_` key with 256 bits of randomness. */
export function generateApiKey(): GeneratedApiKey {
  const key = API_KEY_PREFIX + randomSecret(32);
  return { key, hash: hashApiKey(key), prefix: key.slice(0, DISPLAY_LENGTH) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Cheap shape check before any lookup, so random strings never reach the database. */
export function looksLikeApiKey(value: string): boolean {
  return SHAPE.test(value);
}
