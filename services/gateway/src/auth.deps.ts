import { createKeyring } from '@mcpgw/crypto';
import type { Db, Repos } from '@mcpgw/db';
import type { SecurityEventRecorder } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { createRateLimiter, type RedisClient } from '@mcpgw/rate-limit';
import type { GatewayConfig } from './config.js';
import { createApiKeyAuthenticator } from './domain/auth/api-key.authenticator.js';
import { createCallerAuthenticator, type CallerAuthenticator } from './domain/auth/caller.authenticator.js';
import { createClientCredentialsService, type ClientCredentialsService } from './domain/auth/client-credentials.service.js';
import { createDiscovery, type Discovery } from './domain/auth/discovery.js';
import { createEntraTokenVerifier } from './domain/auth/entra-token.verifier.js';
import { createGatewayTokenVerifier } from './domain/auth/gateway-token.verifier.js';
import { createIdentityResolver } from './domain/auth/identity.resolver.js';
import { createKeyGuessGuard } from './domain/auth/key-guess.guard.js';
import { createLocalAccountService, type LocalAccountService } from './domain/auth/local-account.service.js';
import { createOpenWebUiDirectory } from './domain/auth/openwebui.directory.js';
import { createOpenWebUiKeyAuthenticator } from './domain/auth/openwebui-key.authenticator.js';
import { createOpenWebUiSessionVerifier } from './domain/auth/openwebui-session.verifier.js';
import { createSignInThrottle } from './domain/auth/sign-in.throttle.js';
import { createSigningKeyStore, type SigningKeyStore } from './domain/auth/signing-key.store.js';
import { createTokenAuthenticator } from './domain/auth/token.authenticator.js';
import { createTokenIssuer } from './domain/auth/token.issuer.js';
import type { KeyUsageRecorder } from './domain/key-usage.recorder.js';

export interface AuthDeps {
  caller: CallerAuthenticator;
  accounts: LocalAccountService;
  clientCredentials: ClientCredentialsService;
  discovery: Discovery;
  keys: SigningKeyStore;
  close(): Promise<void>;
}

/**
 * Composition of the identity methods (part of the gateway's composition root, split out to keep
 * deps.ts small): API keys, Entra, Open WebUI sessions and sk- keys, the gateway's own tokens
 * (local accounts, M2M), their signing keys, throttles and discovery documents.
 */
export function buildAuthDeps(
  config: GatewayConfig,
  parts: { db: Db; repos: Repos; redis: RedisClient | null; logger: Logger; security: SecurityEventRecorder; keyUsage: KeyUsageRecorder },
): AuthDeps {
  const { db, repos, redis, logger, security } = parts;
  const publicUrl = config.GATEWAY_PUBLIC_URL;
  const skew = config.JWT_CLOCK_SKEW_SECONDS;
  const resolver = createIdentityResolver({ db, repos, security });
  const keys = createSigningKeyStore({
    db,
    repo: repos.signingKeys,
    keyring: config.MASTER_KEYS ? createKeyring(config.MASTER_KEYS) : null,
    alg: config.SIGNING_KEY_ALG,
    rotationDays: config.SIGNING_KEY_ROTATION_DAYS,
    publishGraceSec: config.ACCESS_TOKEN_TTL_SECONDS + skew + 60,
    logger,
  });
  const owuiDirectory = config.OPENWEBUI_DATABASE_URL
    ? createOpenWebUiDirectory({ url: config.OPENWEBUI_DATABASE_URL, schema: config.OPENWEBUI_DB_SCHEMA, logger })
    : null;
  const tokens = createTokenAuthenticator({
    identityTtlMs: config.IDENTITY_CACHE_SECONDS * 1000,
    verifyCache: config.TOKEN_VERIFY_CACHE,
    clockSkewSec: skew,
    verifiers: [
      createEntraTokenVerifier({
        tenantIds: config.ENTRA_TENANT_IDS,
        audiences: config.ENTRA_AUDIENCES,
        authority: config.ENTRA_AUTHORITY,
        jwksUri: config.ENTRA_JWKS_URI,
        acceptV1: config.ENTRA_ACCEPT_V1_TOKENS,
        allowedClientAppIds: config.ENTRA_ALLOWED_CLIENT_APP_IDS,
        clockSkewSec: skew,
        resolver,
        logger,
      }),
      createGatewayTokenVerifier({ issuer: publicUrl, keys, clockSkewSec: skew, resolver, refreshTokens: repos.refreshTokens }),
      createOpenWebUiSessionVerifier({
        secret: config.OPENWEBUI_SECRET_KEY ?? null,
        directory: owuiDirectory,
        allowNoExp: config.OPENWEBUI_ALLOW_TOKENS_WITHOUT_EXP,
        clockSkewSec: skew,
        resolver,
      }),
    ],
  });
  // Security limiters: shared through Redis when there is one, failing closed when it fails. They
  // are asked only about keys not known to exist, never on a known caller's path, so they wait
  // longer for Redis than the per-request limiters (50 ms) before refusing with 503.
  const guessLimiter = (name: string, points: number) =>
    createRateLimiter({ name, points, durationSec: config.API_KEY_GUESS_WINDOW_SECONDS, redis, logger, failClosed: true, redisTimeoutMs: 250 });
  const guard = createKeyGuessGuard({
    ip: guessLimiter('key-guess-ip', config.API_KEY_GUESSES_PER_IP),
    prefix: guessLimiter('key-guess-prefix', config.API_KEY_GUESSES_PER_PREFIX),
  });
  const caller = createCallerAuthenticator({
    apiKeys: createApiKeyAuthenticator({ repo: repos.apiKeys, usage: parts.keyUsage, cacheTtlMs: config.API_KEY_CACHE_SECONDS * 1000, guard }),
    openWebUiKeys: createOpenWebUiKeyAuthenticator({
      enabled: config.OPENWEBUI_API_KEYS_ENABLED,
      directory: owuiDirectory,
      resolver,
      cacheTtlMs: config.IDENTITY_CACHE_SECONDS * 1000,
    }),
    tokens,
  });
  const throttleLimiter = (name: string, points: number) =>
    createRateLimiter({ name, points, durationSec: config.LOGIN_THROTTLE_SECONDS, redis, logger, failClosed: true });
  const throttle = createSignInThrottle({
    account: throttleLimiter('sign-in-account', config.LOGIN_ATTEMPTS_PER_USER),
    ip: throttleLimiter('sign-in-ip', config.LOGIN_ATTEMPTS_PER_IP),
    security,
  });
  const issuer = createTokenIssuer({ keys, issuer: publicUrl, ttlSec: config.ACCESS_TOKEN_TTL_SECONDS });
  const entraIssuers = config.ENTRA_TENANT_IDS.map((tid) => `${config.ENTRA_AUTHORITY}/${tid}/v2.0`);
  return {
    caller,
    keys,
    accounts: createLocalAccountService({ db, repos, issuer, throttle, security, audience: publicUrl, refreshTtlSec: config.REFRESH_TOKEN_TTL_SECONDS }),
    clientCredentials: createClientCredentialsService({ repo: repos.m2mClients, issuer, throttle, security, publicUrl }),
    discovery: createDiscovery({
      publicUrl,
      entraIssuers,
      issuesTokens: keys.canSign,
      scopes: config.ENTRA_AUDIENCES.filter((a) => a.startsWith('api://')).map((a) => `${a.replace(/\/$/, '')}/.default`).slice(0, 1),
    }),
    async close() {
      await owuiDirectory?.close();
    },
  };
}
