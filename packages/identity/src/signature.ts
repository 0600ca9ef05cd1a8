import { createHmac, timingSafeEqual } from 'node:crypto';
import { HEADER, SIGNED_HEADERS } from './headers.js';

const VERSION = 'v1';

type HeaderBag = Record<string, string | string[] | undefined>;

/**
 * The string the gateway signs: version, timestamp, method, path and every signed header as
 * `name:value`, or the bare `name` when absent, one per line. Absent and empty differ on purpose:
 * an absent allow list means "no narrowing", an empty one "nothing allowed". Binding method and
 * path means signed headers cannot be lifted onto another request.
 */
export function canonicalString(method: string, path: string, timestampMs: string, headers: HeaderBag): string {
  const lines = [VERSION, timestampMs, method.toUpperCase(), path];
  for (const name of SIGNED_HEADERS) {
    const v = headers[name];
    lines.push(v === undefined ? name : `${name}:${Array.isArray(v) ? v.join(',') : v}`);
  }
  return lines.join('\n');
}

function hmac(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/**
 * Adds `x-gateway-timestamp` and `x-gateway-signature` to `headers` (which must already hold the
 * identity headers) and returns them.
 */
export function signIdentity(
  secret: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = String(nowMs);
  const mac = hmac(secret, canonicalString(method, path, timestamp, headers)).toString('base64url');
  headers[HEADER.gatewayTimestamp] = timestamp;
  headers[HEADER.gatewaySignature] = `${VERSION}=${mac}`;
  return headers;
}

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';
export type VerifyResult = { ok: true } | { ok: false; reason: SignatureFailure };

/**
 * Checks the gateway's signature in constant time against each accepted secret (current first,
 * then previous ones during a rotation) and the timestamp against `maxAgeMs` in both directions.
 */
export function verifyIdentity(
  secrets: readonly string[],
  method: string,
  path: string,
  headers: HeaderBag,
  maxAgeMs: number,
  nowMs: number = Date.now(),
): VerifyResult {
  const signature = headers[HEADER.gatewaySignature];
  const timestamp = headers[HEADER.gatewayTimestamp];
  if (signature === undefined || timestamp === undefined) return { ok: false, reason: 'missing' };
  if (Array.isArray(signature) || Array.isArray(timestamp)) return { ok: false, reason: 'malformed' };
  if (!/^\d{1,16}$/.test(timestamp) || !signature.startsWith(`${VERSION}=`)) return { ok: false, reason: 'malformed' };
  if (Math.abs(nowMs - Number(timestamp)) > maxAgeMs) return { ok: false, reason: 'stale' };
  if (headers[HEADER.gatewayValidated] !== 'true') return { ok: false, reason: 'malformed' };
  // A repeated signed header would be signed joined but decoded as absent: refuse it outright.
  if (SIGNED_HEADERS.some((name) => Array.isArray(headers[name]))) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(signature.slice(VERSION.length + 1), 'base64url');
  const data = canonicalString(method, path, timestamp, headers);
  for (const secret of secrets) {
    const expected = hmac(secret, data);
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'mismatch' };
}
