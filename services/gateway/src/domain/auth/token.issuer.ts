import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SigningKeyStore } from './signing-key.store.js';

/** The claims of a token the gateway issues, besides iss/iat/exp/jti. */
export interface GatewayTokenSubject {
  userId: string;
  authMethod: 'local' | 'm2m';
  /** The resource the token is for: the gateway's URL, or one of its MCP endpoints. */
  audience: string;
  /** Local sign-in: the refresh-token family, so signing out ends the access token too. */
  sessionId?: string;
  /** M2M: the client id. */
  clientId?: string;
}

/** Short-lived access tokens signed with the gateway's current key (ES256 or RS256, `kid` set). */
export function createTokenIssuer(options: { keys: SigningKeyStore; issuer: string; ttlSec: number }) {
  return {
    ttlSec: options.ttlSec,
    async issue(subject: GatewayTokenSubject): Promise<{ accessToken: string; expiresIn: number }> {
      const key = await options.keys.signingKey();
      const claims: Record<string, unknown> = { auth_method: subject.authMethod };
      if (subject.sessionId) claims.sid = subject.sessionId;
      if (subject.clientId) claims.client_id = subject.clientId;
      const accessToken = jwt.sign(claims, key.privateKey, {
        algorithm: key.alg,
        keyid: key.kid,
        issuer: options.issuer,
        subject: subject.userId,
        audience: subject.audience,
        expiresIn: options.ttlSec,
        jwtid: randomUUID(),
      });
      return { accessToken, expiresIn: options.ttlSec };
    },
  };
}
export type TokenIssuer = ReturnType<typeof createTokenIssuer>;
