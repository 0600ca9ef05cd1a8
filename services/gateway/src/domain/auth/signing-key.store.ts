import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Keyring } from '@mcpgw/crypto';
import { randomSecret } from '@mcpgw/crypto';
import type { Db, SigningAlg, SigningKey, SigningKeyRepo } from '@mcpgw/db';
import { createSigningKeyRepo } from '@mcpgw/db';
import { AppError } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';

export interface SigningKeyStoreOptions {
  db: Pick<Db, 'withTransaction'>;
  repo: Pick<SigningKeyRepo, 'findCurrent' | 'listPublished'>;
  /** Wraps private keys; null: the gateway cannot sign (tokens are not issued). */
  keyring: Keyring | null;
  alg: SigningAlg;
  /** A key older than this is replaced (0: only when retired by an admin). */
  rotationDays: number;
  /** How long a retired key stays published: the longest token lifetime plus the clock skew. */
  publishGraceSec: number;
  logger: Logger;
  now?: () => number;
}

export interface ActiveKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
}

export interface PublicKey {
  alg: SigningAlg;
  key: KeyObject;
  jwk: Record<string, unknown>;
}

const CURRENT_TTL_MS = 10_000;
const PUBLISHED_TTL_MS = 30_000;
const REFETCH_COOLDOWN_MS = 5_000;
const LOCK = 'mcpgw:signing-key-rotation';

function generate(alg: SigningAlg): { kid: string; publicJwk: Record<string, unknown>; privatePem: string } {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomSecret(12);
  const publicJwk = { ...pair.publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, publicJwk, privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

/**
 * The gateway's token-signing keys, kept in the database so every instance signs and verifies with
 * the same set. The newest unretired key signs; a key is replaced when older than `rotationDays` or
 * once an admin retires it; retired keys stay published (JWKS) until the tokens they signed have
 * expired. Private keys are stored encrypted with the master keys.
 */
export function createSigningKeyStore(options: SigningKeyStoreOptions) {
  const now = options.now ?? Date.now;
  let current: { key: ActiveKey; createdAt: number; until: number } | null = null;
  let published: { keys: Map<string, PublicKey>; until: number; loadedAt: number } | null = null;

  const aad = (kid: string) => `signing-key:${kid}`;
  const tooOld = (createdAt: number) => options.rotationDays > 0 && now() - createdAt > options.rotationDays * 86_400_000;

  function activate(row: SigningKey, keyring: Keyring): ActiveKey {
    try {
      return { kid: row.kid, alg: row.alg, privateKey: createPrivateKey(keyring.decrypt(row.privateKey, aad(row.kid))) };
    } catch (err) {
      // Wrong or missing MASTER_KEYS on this instance: refuse to sign rather than make keys that the
      // other instances cannot use.
      options.logger.error('token-signing key cannot be unwrapped with MASTER_KEYS', { kid: row.kid, err: (err as Error).message });
      throw new AppError('SERVICE_UNAVAILABLE', 'Token issuance is unavailable (signing key cannot be unwrapped)', { cause: err });
    }
  }

  async function createKey(keyring: Keyring): Promise<SigningKey> {
    return options.db.withTransaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [LOCK]);
      const repo = createSigningKeyRepo(tx);
      const latest = await repo.findCurrent();
      if (latest && !tooOld(latest.createdAt.getTime())) return latest;
      const made = generate(options.alg);
      const row = await repo.create({ kid: made.kid, alg: options.alg, publicJwk: made.publicJwk, privateKey: keyring.encrypt(made.privatePem, aad(made.kid)) });
      if (latest) await tx.query('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL AND kid <> $1', [row.kid]);
      options.logger.info('new token-signing key', { kid: row.kid, alg: row.alg, replaces: latest?.kid ?? null });
      return row;
    });
  }

  async function loadPublished(): Promise<Map<string, PublicKey>> {
    const rows = await options.repo.listPublished(options.publishGraceSec);
    const keys = new Map<string, PublicKey>();
    for (const row of rows) {
      keys.set(row.kid, { alg: row.alg, key: createPublicKey({ key: row.publicJwk as never, format: 'jwk' }), jwk: row.publicJwk });
    }
    published = { keys, until: now() + PUBLISHED_TTL_MS, loadedAt: now() };
    return keys;
  }

  return {
    /** Whether this gateway can sign tokens at all (MASTER_KEYS set). */
    canSign: options.keyring !== null,

    /** The key new tokens are signed with, made on first use and replaced when due. */
    async signingKey(): Promise<ActiveKey> {
      const keyring = options.keyring;
      if (!keyring) throw new AppError('SERVICE_UNAVAILABLE', 'Token issuance is not configured (MASTER_KEYS is not set on the gateway)');
      if (current && current.until > now() && !tooOld(current.createdAt)) return current.key;
      let row = await options.repo.findCurrent();
      if (!row || tooOld(row.createdAt.getTime())) {
        row = await createKey(keyring);
        published = null;
      }
      current = { key: activate(row, keyring), createdAt: row.createdAt.getTime(), until: now() + CURRENT_TTL_MS };
      return current.key;
    },

    /** A published key by kid; an unknown kid reloads the set at most once per cool-down. */
    async verificationKey(kid: string): Promise<PublicKey | null> {
      let keys = published && published.until > now() ? published.keys : await loadPublished();
      if (!keys.has(kid) && published && now() - published.loadedAt > REFETCH_COOLDOWN_MS) keys = await loadPublished();
      return keys.get(kid) ?? null;
    },

    /** The JWKS document: every published public key. */
    async jwks(): Promise<{ keys: Record<string, unknown>[] }> {
      const keys = published && published.until > now() ? published.keys : await loadPublished();
      return { keys: [...keys.values()].map((k) => k.jwk) };
    },

    /** Drops cached keys (after an admin retired the current one on this instance). */
    forget(): void {
      current = null;
      published = null;
    },
  };
}
export type SigningKeyStore = ReturnType<typeof createSigningKeyStore>;
