import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { Logger } from '@mcpgw/logger';

export interface JwksKeyStoreOptions {
  uri: string;
  /** A fetch that has not finished (answer and body) by then is abandoned; default 5 s. */
  timeoutMs?: number;
  /** At most `burst` fetches per this interval, however many unknown kids arrive; default 10 s. */
  cooldownMs?: number;
  /** Fetches allowed within one cool-down; default 2 (a rotated-in key right after a fetch is still picked up at once). */
  burst?: number;
  /** Known keys are refreshed in the background once this old; default 1 h. */
  maxAgeMs?: number;
  logger: Logger;
  now?: () => number;
}

export interface JwksKeyStore {
  /** The public key of `kid`, fetching the JWKS when the kid is unknown and the cool-down allows; null if not found. */
  key(kid: string): Promise<KeyObject | null>;
  /** JWKS fetches since start (successful or not). */
  fetches(): number;
}

interface Jwk extends JsonWebKey {
  kid?: unknown;
  use?: unknown;
}

/** The RSA signing keys of a JWKS document by kid; other keys (encryption, EC, broken) are skipped. */
function signingKeys(body: unknown): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  const list = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) return keys;
  for (const jwk of list as Jwk[]) {
    if (typeof jwk?.kid !== 'string' || jwk.kty !== 'RSA' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
    try {
      keys.set(jwk.kid, createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: jwk.e } as JsonWebKey, format: 'jwk' }));
    } catch {
      // A key we cannot read cannot verify anything.
    }
  }
  return keys;
}

/**
 * The signing keys of one JWKS endpoint (Entra's). The whole key set is kept and replaced only by
 * a fetch that succeeds, so while the endpoint is down or slow every key fetched before keeps
 * verifying. An unknown kid triggers a fetch at most `burst` times per cool-down (one fetch at a
 * time; callers arriving meanwhile wait for it): a flood of made-up kids costs two fetches per
 * 10 s, and a key Entra has just rotated in is picked up within one cool-down even during such a
 * flood (jwks-rsa's per-minute budget, which a flood exhausts for a whole minute, locked it out).
 * Every fetch is bounded by a timeout covering the body,
 * so a hung endpoint costs a caller at most that long, then 401.
 */
export function createJwksKeyStore(options: JwksKeyStoreOptions): JwksKeyStore {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const cooldownMs = options.cooldownMs ?? 10_000;
  const burst = options.burst ?? 2;
  const maxAgeMs = options.maxAgeMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  let keys = new Map<string, KeyObject>();
  let fetchedAt = Number.NEGATIVE_INFINITY;
  /** When the last `burst` fetches started. */
  let started: number[] = [];
  let inFlight: Promise<void> | null = null;
  let fetches = 0;
  let failing = false;

  async function load(): Promise<void> {
    fetches += 1;
    try {
      const res = await fetch(options.uri, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`JWKS answered ${res.status}`);
      const fresh = signingKeys(await res.json());
      if (fresh.size === 0) throw new Error('JWKS has no RSA signing keys');
      keys = fresh;
      fetchedAt = now();
      if (failing) options.logger.info('Entra JWKS reachable again', { keys: fresh.size });
      failing = false;
    } catch (err) {
      // Keep the keys we have; one warning per outage, not per request.
      if (!failing) {
        options.logger.warn('Entra JWKS unreachable: verifying with the keys fetched before', {
          err: (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message,
          keys: keys.size,
        });
      }
      failing = true;
    }
  }

  /** Starts a fetch unless one is running or the cool-down forbids it; resolves when the current one (if any) ends. */
  function refresh(): Promise<void> {
    started = started.filter((t) => now() - t < cooldownMs);
    if (!inFlight && started.length < burst) {
      started.push(now());
      inFlight = load().finally(() => {
        inFlight = null;
      });
    }
    return inFlight ?? Promise.resolve();
  }

  return {
    async key(kid) {
      const known = keys.get(kid);
      if (known) {
        // Old keys are checked in the background; the caller never waits for that.
        if (now() - fetchedAt > maxAgeMs) void refresh();
        return known;
      }
      await refresh();
      return keys.get(kid) ?? null;
    },
    fetches: () => fetches,
  };
}
