import { refused, type AuthOutcome } from './auth-outcome.js';
import type { ApiKeyAuthenticator } from './api-key.authenticator.js';
import type { Credential } from './credentials.js';
import type { OpenWebUiKeyAuthenticator } from './openwebui-key.authenticator.js';
import type { AuthContext, TokenAuthenticator } from './token.authenticator.js';

/**
 * The one entry point: a credential, chosen by its shape, goes to exactly one authenticator
 * (mcpgw_ API key, Open WebUI sk- key, or a JWT, whose issuer then picks the verifier). Every path
 * ends in the same identity, or a reason why not.
 */
export function createCallerAuthenticator(parts: {
  apiKeys: Pick<ApiKeyAuthenticator, 'authenticate'>;
  openWebUiKeys: Pick<OpenWebUiKeyAuthenticator, 'authenticate'>;
  tokens: Pick<TokenAuthenticator, 'authenticate'>;
}) {
  return {
    authenticate(credential: Credential, ctx: AuthContext): Promise<AuthOutcome> {
      switch (credential.kind) {
        case 'none':
          return Promise.resolve(refused('missing', 'none'));
        case 'in-url':
          return Promise.resolve(refused('in-url', 'none'));
        case 'malformed':
          return Promise.resolve(refused('malformed', 'none'));
        case 'api-key':
          return parts.apiKeys.authenticate(credential.value, ctx);
        case 'openwebui-key':
          return parts.openWebUiKeys.authenticate(credential.value, ctx);
        case 'jwt':
          return parts.tokens.authenticate(credential.value, ctx);
      }
    },
  };
}
export type CallerAuthenticator = ReturnType<typeof createCallerAuthenticator>;
