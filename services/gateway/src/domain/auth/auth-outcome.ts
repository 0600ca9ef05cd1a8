import type { AuthMethod, Identity } from '@mcpgw/identity';

/**
 * Why a caller has no identity. Every authenticator answers with one of these, so the refusal
 * (status, challenge, security event) is decided in one place (requireIdentity).
 */
export type AuthFailure =
  | 'missing'
  | 'in-url'
  | 'malformed'
  | 'unsupported'
  | 'unknown'
  | 'revoked'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-signature'
  | 'bad-algorithm'
  | 'unknown-key'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'disabled'
  /** The credential is valid, but this caller may not use mcpgw (403). */
  | 'not-allowed'
  /** A dependency needed to resolve the caller (database, Open WebUI's database) failed (503). */
  | 'unavailable'
  /** Too many unknown API keys from this address or with this prefix (429; key-guess.guard.ts). */
  | 'throttled';

/** Where the credential was checked: an identity method, or the dispatcher when none applied. */
export type AuthVerifier = AuthMethod | 'none';

export type AuthOutcome =
  | { ok: true; identity: Identity }
  | { ok: false; failure: AuthFailure; verifier: AuthVerifier; detail?: string };

export function refused(failure: AuthFailure, verifier: AuthVerifier, detail?: string): AuthOutcome {
  return detail === undefined ? { ok: false, failure, verifier } : { ok: false, failure, verifier, detail };
}

/** The HTTP status of a refusal. */
export function statusOfFailure(failure: AuthFailure): 401 | 403 | 429 | 503 {
  if (failure === 'not-allowed') return 403;
  if (failure === 'throttled') return 429;
  if (failure === 'unavailable') return 503;
  return 401;
}

/** Retry-After of a `throttled` refusal, read from its detail (`… retry after N s`); 60 when absent. */
export function retryAfterOf(detail: string | undefined): string {
  return /retry after (\d+) s$/.exec(detail ?? '')?.[1] ?? '60';
}
