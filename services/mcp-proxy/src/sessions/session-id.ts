import { randomBytes } from 'node:crypto';

/** Random bytes in a session id: 256 bits from the operating system's CSPRNG. */
export const SESSION_ID_BYTES = 32;

/** What the gateway may send as its instance tag (HEADER.mcpgwInstance). */
export const INSTANCE_TAG = /^[a-z0-9]{1,16}$/;

/**
 * A new MCP session id: 256 random bits (crypto.randomBytes), base64url, so visible ASCII as the
 * spec requires and unguessable (test-matrix M3); after the gateway's tag for this instance and a
 * dot when there is one (routing affinity, not a secret).
 */
export function newSessionId(tag?: string): string {
  const random = randomBytes(SESSION_ID_BYTES).toString('base64url');
  return tag ? `${tag}.${random}` : random;
}
