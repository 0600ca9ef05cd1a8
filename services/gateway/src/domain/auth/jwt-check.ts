import type { KeyObject } from 'node:crypto';
import jwt, { type Algorithm, type JwtHeader, type JwtPayload } from 'jsonwebtoken';
import type { AuthFailure } from './auth-outcome.js';

export interface PeekedJwt {
  header: JwtHeader;
  payload: JwtPayload;
}

/** Header and claims, unverified: only to choose the verifier. Null for anything not a JSON JWT. */
export function peekJwt(token: string): PeekedJwt | null {
  try {
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null || Array.isArray(decoded.payload)) return null;
    return { header: decoded.header, payload: decoded.payload };
  } catch {
    return null;
  }
}

export interface JwtRules {
  /** The only algorithms this verifier accepts; never mixes HMAC with public-key algorithms. */
  algorithms: Algorithm[];
  issuer?: string | [string, ...string[]];
  audience?: string | [string, ...string[]];
  clockToleranceSec: number;
  /** jsonwebtoken checks exp only when present; most verifiers must insist on it. */
  requireExp: boolean;
}

export type JwtCheck = { ok: true; payload: JwtPayload } | { ok: false; failure: AuthFailure; detail: string };

function failureOf(err: unknown): { failure: AuthFailure; detail: string } {
  if (err instanceof jwt.TokenExpiredError) return { failure: 'expired', detail: 'token expired' };
  if (err instanceof jwt.NotBeforeError) return { failure: 'not-yet-valid', detail: 'token not yet valid' };
  const message = err instanceof Error ? err.message : String(err);
  if (message === 'invalid signature' || message === 'jwt signature is required') return { failure: 'bad-signature', detail: message };
  if (message === 'invalid algorithm' || message.includes('must be a symmetric key') || message.includes('must be an asymmetric key')) {
    return { failure: 'bad-algorithm', detail: 'algorithm not accepted' };
  }
  if (message.startsWith('jwt audience invalid')) return { failure: 'wrong-audience', detail: 'audience not accepted' };
  if (message.startsWith('jwt issuer invalid')) return { failure: 'wrong-issuer', detail: 'issuer not accepted' };
  return { failure: 'malformed', detail: 'token could not be read' };
}

/**
 * Verifies signature, algorithm, exp/nbf (with the clock tolerance), and issuer/audience when given,
 * with jsonwebtoken; failures are classified, never thrown.
 */
export function checkJwt(token: string, key: string | Buffer | KeyObject, rules: JwtRules): JwtCheck {
  try {
    const payload = jwt.verify(token, key, {
      algorithms: rules.algorithms,
      clockTolerance: rules.clockToleranceSec,
      ...(rules.issuer ? { issuer: rules.issuer } : {}),
      ...(rules.audience ? { audience: rules.audience } : {}),
    });
    if (typeof payload !== 'object' || payload === null) return { ok: false, failure: 'malformed', detail: 'claims are not an object' };
    if (rules.requireExp && typeof payload.exp !== 'number') return { ok: false, failure: 'malformed', detail: 'token has no exp' };
    return { ok: true, payload };
  } catch (err) {
    return { ok: false, ...failureOf(err) };
  }
}
