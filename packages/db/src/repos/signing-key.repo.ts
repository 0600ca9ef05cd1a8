import type { Queryable } from '../db.js';

export type SigningAlg = 'ES256' | 'RS256';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  /** The public half as a JWK (kid, alg, use included). */
  publicJwk: Record<string, unknown>;
  /** Envelope ciphertext of the PKCS#8 PEM private key. */
  privateKey: string;
  createdAt: Date;
  retiredAt: Date | null;
}

const COLUMNS = `kid, alg, public_jwk AS "publicJwk", private_key AS "privateKey", created_at AS "createdAt", retired_at AS "retiredAt"`;

/** The gateway's own token-signing keys. */
export function createSigningKeyRepo(db: Queryable) {
  return {
    async create(k: { kid: string; alg: SigningAlg; publicJwk: Record<string, unknown>; privateKey: string }, q: Queryable = db): Promise<SigningKey> {
      const { rows } = await q.query<SigningKey>(
        `INSERT INTO signing_keys (kid, alg, public_jwk, private_key) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [k.kid, k.alg, JSON.stringify(k.publicJwk), k.privateKey],
      );
      return rows[0]!;
    },
    /** The newest key that is not retired: the one new tokens are signed with. */
    async findCurrent(q: Queryable = db): Promise<SigningKey | null> {
      const { rows } = await q.query<SigningKey>(`SELECT ${COLUMNS} FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1`);
      return rows[0] ?? null;
    },
    /** Keys whose tokens may still be live: not retired, or retired less than `graceSeconds` ago. */
    async listPublished(graceSeconds: number, q: Queryable = db): Promise<SigningKey[]> {
      const { rows } = await q.query<SigningKey>(
        `SELECT ${COLUMNS} FROM signing_keys WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1)
         ORDER BY created_at DESC, kid`,
        [graceSeconds],
      );
      return rows;
    },
    /** Retires every key still signing; the next token is signed with a new key. Returns the kids. */
    async retireCurrent(q: Queryable = db): Promise<string[]> {
      const { rows } = await q.query<{ kid: string }>('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL RETURNING kid');
      return rows.map((r) => r.kid);
    },
    async list(q: Queryable = db): Promise<Omit<SigningKey, 'privateKey'>[]> {
      const { rows } = await q.query<Omit<SigningKey, 'privateKey'>>(
        `SELECT kid, alg, public_jwk AS "publicJwk", created_at AS "createdAt", retired_at AS "retiredAt" FROM signing_keys ORDER BY created_at DESC`,
      );
      return rows;
    },
  };
}
export type SigningKeyRepo = ReturnType<typeof createSigningKeyRepo>;
