import type { JwtPayload } from 'jsonwebtoken';
import type { Logger } from '@mcpgw/logger';
import { refused } from './auth-outcome.js';
import { toIdentity, type IdentityResolver } from './identity.resolver.js';
import { checkJwt, type PeekedJwt } from './jwt-check.js';
import { createJwksKeyStore } from './jwks-key.store.js';
import type { AuthContext, TokenVerifier, VerifyResult } from './token.authenticator.js';

export interface EntraOptions {
  /** Accepted tenants (lower-case GUIDs). */
  tenantIds: readonly string[];
  /** Accepted `aud` values: the API's client id and App ID URIs. */
  audiences: readonly string[];
  /** e.g. https://login.microsoftonline.com; v2 issuers are {authority}/{tid}/v2.0. */
  authority: string;
  jwksUri: string;
  acceptV1: boolean;
  /** Client app ids (azp/appid) whose app-only tokens are accepted. */
  allowedClientAppIds: readonly string[];
  clockSkewSec: number;
  resolver: IdentityResolver;
  logger: Logger;
}

/**
 * A JWKS fetch gives up after this long (answer and body): a token with an unknown kid waits at
 * most this while the endpoint hangs, then gets 401.
 */
export const JWKS_TIMEOUT_MS = 5_000;
/** At most two JWKS fetches per this interval for unknown kids (a rotated-in key is picked up within it). */
export const JWKS_COOLDOWN_MS = 10_000;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Key ids as Entra writes them; anything else (paths, quotes, SQL) never reaches the JWKS client. */
const KID = /^[A-Za-z0-9._~+/=-]{1,128}$/;
const V1_ISSUER = /^https:\/\/sts\.windows\.net\/([0-9a-f-]{36})\/$/i;

/** Group ids and role names; one holding NUL can match no stored mapping (Postgres cannot store NUL) and is dropped. */
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && !x.includes('\u0000')) : []);
/**
 * Claim text as the users table can hold it: control characters (NUL cannot be stored at all)
 * removed, trimmed; undefined when nothing is left.
 */
const text = (v: unknown): string | undefined => {
  if (typeof v !== 'string') return undefined;
  const clean = v.replace(/\p{Cc}/gu, '').trim();
  return clean === '' ? undefined : clean;
};
/** The first `max` characters, counted as Postgres counts them (code points, not UTF-16 units). */
const clip = (v: string, max: number) => [...v].slice(0, max).join('');

/** App-only (client credentials): `idtyp: app`, or no delegated scopes and no user claims. */
export function isAppOnly(p: JwtPayload): boolean {
  if (p.idtyp === 'app') return true;
  if (p.idtyp === 'user' || p.scp !== undefined) return false;
  const userClaims = ['preferred_username', 'upn', 'unique_name', 'name', 'email', 'given_name', 'family_name'];
  return (p.azp !== undefined || p.appid !== undefined) && !userClaims.some((c) => p[c] !== undefined);
}

/** Group overage: the token says it has groups but does not list them (`_claim_names`, `hasgroups`). */
export function hasGroupOverage(p: JwtPayload): boolean {
  const names = p._claim_names as Record<string, unknown> | undefined;
  return p.hasgroups === true || (typeof names === 'object' && names !== null && 'groups' in names);
}

/**
 * Microsoft Entra ID access and ID tokens: RS256 only, keys from the JWKS (jwks-key.store.ts: kept
 * while the endpoint is down or slow, refetched for an unknown kid at most once per
 * JWKS_COOLDOWN_MS, each fetch bounded by JWKS_TIMEOUT_MS, so key rotation needs no restart and an
 * outage or an unknown-kid flood costs 401s, never a hang), v2 issuer
 * (v1 optional) of an allowed tenant, audience allow-list, exp required. The user is keyed by
 * (tid, oid) and created on first sight with no access; app-only tokens only for allow-listed apps.
 */
export function createEntraTokenVerifier(options: EntraOptions): TokenVerifier {
  const tenants = new Set(options.tenantIds.map((t) => t.toLowerCase()));
  const apps = new Set(options.allowedClientAppIds.map((a) => a.toLowerCase()));
  const v2Issuer = new RegExp(`^${options.authority.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/([0-9a-f-]{36})/v2\\.0$`, 'i');
  const jwks = createJwksKeyStore({ uri: options.jwksUri, timeoutMs: JWKS_TIMEOUT_MS, cooldownMs: JWKS_COOLDOWN_MS, logger: options.logger });
  const audiences = [...options.audiences] as [string, ...string[]];

  function tenantOf(iss: unknown): string | null {
    if (typeof iss !== 'string') return null;
    const v2 = v2Issuer.exec(iss);
    if (v2) return v2[1]!.toLowerCase();
    const v1 = options.acceptV1 ? V1_ISSUER.exec(iss) : null;
    return v1 ? v1[1]!.toLowerCase() : null;
  }

  return {
    method: 'entra',
    owns: ({ payload }) => typeof payload.iss === 'string' && (v2Issuer.test(payload.iss) || V1_ISSUER.test(payload.iss)),

    async verify(token: string, { header, payload: unverified }: PeekedJwt): Promise<VerifyResult> {
      if (tenants.size === 0) return { ok: false, failure: 'unsupported', detail: 'Entra sign-in is not configured' };
      if (header.alg !== 'RS256') return { ok: false, failure: 'bad-algorithm', detail: 'Entra tokens must be RS256' };
      const tid = tenantOf(unverified.iss);
      if (!tid || !tenants.has(tid)) return { ok: false, failure: 'wrong-issuer', detail: 'issuer or tenant not accepted' };
      if (typeof header.kid !== 'string' || !KID.test(header.kid)) return { ok: false, failure: 'malformed', detail: 'token has no usable kid' };
      const key = await jwks.key(header.kid);
      if (!key) return { ok: false, failure: 'unknown-key', detail: 'signing key not found' };
      const checked = checkJwt(token, key, { algorithms: ['RS256'], audience: audiences, clockToleranceSec: options.clockSkewSec, requireExp: true });
      if (!checked.ok) return checked;
      const p = checked.payload;
      // The verified tid and iss must agree with what chose the tenant above.
      if (typeof p.tid !== 'string' || p.tid.toLowerCase() !== tid || tenantOf(p.iss) !== tid) {
        return { ok: false, failure: 'wrong-issuer', detail: 'tid and iss disagree' };
      }
      if (typeof p.oid !== 'string' || !GUID.test(p.oid)) return { ok: false, failure: 'malformed', detail: 'token has no oid' };
      const oid = p.oid.toLowerCase();
      const appOnly = isAppOnly(p);
      const appId = (text(p.azp) ?? text(p.appid) ?? '').toLowerCase();
      const overage = hasGroupOverage(p);
      const claims = { groups: overage ? null : strings(p.groups), roles: strings(p.roles) };
      const email = text(p.email) ?? text(p.preferred_username) ?? text(p.upn) ?? text(p.unique_name);
      const display = appOnly
        ? { email: `${appId || oid}@apps.entra.invalid`, name: `Entra app ${appId || oid}` }
        : { email: clip(email && [...email].length >= 3 ? email : `${oid}@${tid}.entra.invalid`, 320), name: clip(text(p.name) ?? email ?? oid, 200) };

      return {
        ok: true,
        token: {
          exp: p.exp!,
          async resolve(ctx: AuthContext) {
            if (appOnly && !apps.has(appId)) return refused('not-allowed', 'm2m', 'client application not allowed');
            const { principal } = await options.resolver.signIn({
              key: { provider: 'entra', issuer: tid, subject: oid },
              display,
              source: appOnly ? 'm2m' : 'entra',
              claims,
              requestId: ctx.requestId,
              clientIp: ctx.clientIp,
            });
            if (!principal) return refused('unknown', 'entra', 'user vanished');
            if (!principal.enabled) return refused('disabled', appOnly ? 'm2m' : 'entra', 'user is disabled');
            return { ok: true, identity: toIdentity(principal, appOnly ? 'm2m' : 'entra') };
          },
        },
      };
    },
  };
}
