import type { AuthOutcome } from './auth-outcome.js';
import { refused } from './auth-outcome.js';
import { toIdentity, type IdentityResolver } from './identity.resolver.js';
import { checkJwt, type PeekedJwt } from './jwt-check.js';
import type { OpenWebUiDirectory, OpenWebUiUser } from './openwebui.directory.js';
import type { AuthContext, TokenVerifier, VerifyResult } from './token.authenticator.js';

export interface OpenWebUiSessionOptions {
  /** WEBUI_SECRET_KEY; null: Open WebUI sessions are not accepted. */
  secret: string | null;
  directory: OpenWebUiDirectory | null;
  allowNoExp: boolean;
  clockSkewSec: number;
  resolver: IdentityResolver;
}

/**
 * The mcpgw user of an Open WebUI user: created on first sight (no access), display data kept in
 * step; Open WebUI's role `admin` makes an admin, `pending` (not yet approved) is refused.
 */
export async function openWebUiIdentity(
  resolver: IdentityResolver,
  user: OpenWebUiUser,
  ctx: AuthContext,
): Promise<AuthOutcome> {
  if (user.role !== 'user' && user.role !== 'admin') return refused('not-allowed', 'openwebui', `Open WebUI role ${user.role}`);
  const email = user.email && user.email.length >= 3 ? user.email.slice(0, 320) : `${user.id}@openwebui.invalid`;
  const { principal } = await resolver.signIn({
    key: { provider: 'openwebui', issuer: '', subject: user.id },
    display: { email, name: (user.name || email).slice(0, 200) },
    source: 'openwebui',
    requestId: ctx.requestId,
    clientIp: ctx.clientIp,
  });
  if (!principal) return refused('unknown', 'openwebui', 'user vanished');
  if (!principal.enabled) return refused('disabled', 'openwebui', 'user is disabled');
  return { ok: true, identity: toIdentity(principal, 'openwebui', { admin: user.role === 'admin' }) };
}

/**
 * Open WebUI session JWTs (Authorization: Bearer or its `token` cookie): HS256 only, with
 * WEBUI_SECRET_KEY; claims are only id/exp/jti/iat, so the user is read from Open WebUI's "user"
 * table. Tokens without exp are refused unless allowed. They carry no issuer, which is how they are
 * told apart from Entra and gateway tokens (whose verifiers accept no HMAC algorithm).
 */
export function createOpenWebUiSessionVerifier(options: OpenWebUiSessionOptions): TokenVerifier {
  return {
    method: 'openwebui',
    owns: ({ payload }) => payload.iss === undefined,

    async verify(token: string, { header }: PeekedJwt): Promise<VerifyResult> {
      const { secret, directory } = options;
      if (!secret || !directory) return { ok: false, failure: 'unsupported', detail: 'Open WebUI sessions are not configured' };
      if (header.alg !== 'HS256') return { ok: false, failure: 'bad-algorithm', detail: 'Open WebUI tokens must be HS256' };
      const checked = checkJwt(token, secret, { algorithms: ['HS256'], clockToleranceSec: options.clockSkewSec, requireExp: !options.allowNoExp });
      if (!checked.ok) return checked;
      const id = checked.payload.id;
      if (typeof id !== 'string' || id === '' || id.length > 255) return { ok: false, failure: 'malformed', detail: 'token has no user id' };
      return {
        ok: true,
        token: {
          exp: typeof checked.payload.exp === 'number' ? checked.payload.exp : null,
          async resolve(ctx) {
            const user = await directory.findUser(id);
            if (!user) return refused('unknown', 'openwebui', 'no such Open WebUI user');
            return openWebUiIdentity(options.resolver, user, ctx);
          },
        },
      };
    },
  };
}
