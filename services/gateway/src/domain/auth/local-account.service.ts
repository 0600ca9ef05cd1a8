import { randomUUID } from 'node:crypto';
import { createDecoyPasswordHash, hashPassword, hashSecret, randomSecret, verifyPassword } from '@mcpgw/crypto';
import { createRepos, type Db, type Queryable, type Repos } from '@mcpgw/db';
import { AppError, type SecurityEventRecorder } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import type { SignInThrottle } from './sign-in.throttle.js';
import type { TokenIssuer } from './token.issuer.js';

export interface TokenSet {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
}

export interface RequestContext {
  clientIp: string;
  requestId: string;
}

/** The group whose members are admins; the launcher's bootstrap creates the same one. */
export const ADMIN_GROUP = 'MCP-Admin';
const REFRESH_PREFIX = 'rt_';
const SETUP_LOCK = 'mcpgw:first-run-setup';

/** A database failure during sign-in is the service being unavailable, not a server bug. */
async function orUnavailable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw new AppError('SERVICE_UNAVAILABLE', 'Sign-in is temporarily unavailable; try again shortly', { cause: err, headers: { [HEADER.retryAfter]: '5' } });
  }
}

/**
 * Local accounts, for sites without SSO: password sign-in (scrypt, throttled per account and per
 * IP), a short-lived access token plus a rotating refresh token (a reused refresh token revokes
 * its whole family), sign-out, and first-run setup of the first admin while no admin exists.
 */
export function createLocalAccountService(options: {
  db: Pick<Db, 'withTransaction'>;
  repos: Pick<Repos, 'localCredentials' | 'refreshTokens' | 'userIdentities' | 'users'>;
  issuer: TokenIssuer;
  throttle: SignInThrottle;
  security: SecurityEventRecorder;
  /** The audience of local access tokens: the gateway's URL. */
  audience: string;
  refreshTtlSec: number;
}) {
  const { repos, security } = options;
  const decoy = createDecoyPasswordHash();

  async function startSession(userId: string, familyId: string, expiresAt: Date, q?: Queryable): Promise<TokenSet> {
    const refresh = REFRESH_PREFIX + randomSecret(32);
    await repos.refreshTokens.create({ familyId, userId, tokenHash: hashSecret(refresh), expiresAt }, q);
    const access = await options.issuer.issue({ userId, authMethod: 'local', audience: options.audience, sessionId: familyId });
    return {
      access_token: access.accessToken,
      token_type: 'Bearer',
      expires_in: access.expiresIn,
      refresh_token: refresh,
      refresh_expires_in: Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000)),
    };
  }

  function refuse(reason: string, ctx: RequestContext, details: Record<string, unknown> = {}): AppError {
    security.record({ kind: 'sign-in-failed', reason, clientIp: ctx.clientIp, requestId: ctx.requestId, details });
    return new AppError('UNAUTHENTICATED', 'Invalid credentials');
  }

  return {
    async login(input: { email: string; password: string }, ctx: RequestContext): Promise<TokenSet> {
      await options.throttle.check(`local:${input.email}`, ctx);
      const account = await orUnavailable(() => repos.localCredentials.findByEmail(input.email));
      // The same work whether or not the account exists: no existence oracle through timing.
      const matches = await verifyPassword(input.password, account?.passwordHash ?? (await decoy));
      if (!account) throw refuse('unknown account', ctx, { account: input.email.toLowerCase() });
      if (!matches) throw refuse('wrong password', ctx, { account: input.email.toLowerCase() });
      if (!account.enabled) throw refuse('account disabled', ctx, { account: input.email.toLowerCase() });
      return orUnavailable(async () => {
        await repos.userIdentities.touchUser(account.userId);
        return startSession(account.userId, randomUUID(), new Date(Date.now() + options.refreshTtlSec * 1000));
      });
    },

    async refresh(refreshToken: string, ctx: RequestContext): Promise<TokenSet> {
      if (!refreshToken.startsWith(REFRESH_PREFIX) || refreshToken.length > 200) throw refuse('malformed refresh token', ctx);
      const outcome = await orUnavailable(() =>
        options.db.withTransaction(async (tx) => {
          const r = createRepos(tx);
          const row = await r.refreshTokens.findByHashForUpdate(hashSecret(refreshToken), tx);
          if (!row) return { kind: 'refused', reason: 'unknown refresh token', familyId: null } as const;
          if (row.revokedAt) return { kind: 'refused', reason: 'revoked refresh token', familyId: row.familyId } as const;
          if (row.usedAt) {
            await r.refreshTokens.revokeFamily(row.familyId);
            return { kind: 'reused', familyId: row.familyId, userId: row.userId } as const;
          }
          if (row.expiresAt.getTime() <= Date.now()) return { kind: 'refused', reason: 'expired refresh token', familyId: row.familyId } as const;
          const principal = await r.userIdentities.findPrincipal(row.userId);
          if (!principal || !principal.enabled) {
            await r.refreshTokens.revokeFamily(row.familyId);
            return { kind: 'refused', reason: 'account disabled', familyId: row.familyId } as const;
          }
          await r.refreshTokens.markUsed(row.id);
          return { kind: 'tokens', tokens: await startSession(row.userId, row.familyId, row.expiresAt, tx) } as const;
        }),
      );
      if (outcome.kind === 'tokens') return outcome.tokens;
      if (outcome.kind === 'reused') {
        security.record({
          kind: 'refresh-token-reuse',
          reason: 'a refresh token was used twice; its whole sign-in was revoked',
          userId: outcome.userId,
          clientIp: ctx.clientIp,
          requestId: ctx.requestId,
          details: { familyId: outcome.familyId },
        });
        throw new AppError('UNAUTHENTICATED', 'Invalid credentials');
      }
      throw refuse(outcome.reason, ctx, outcome.familyId ? { familyId: outcome.familyId } : {});
    },

    /** Ends one sign-in (its refresh-token family), or every sign-in of the user. */
    async logout(input: { userId: string; sessionId: string | null; refreshToken: string | null; everywhere: boolean }): Promise<number> {
      return orUnavailable(async () => {
        if (input.everywhere) return repos.refreshTokens.revokeAllForUser(input.userId);
        let revoked = 0;
        if (input.sessionId) revoked += await repos.refreshTokens.revokeFamily(input.sessionId);
        if (input.refreshToken) {
          const hash = hashSecret(input.refreshToken);
          revoked += await options.db.withTransaction(async (tx) => {
            const row = await createRepos(tx).refreshTokens.findByHashForUpdate(hash, tx);
            return row && row.userId === input.userId ? createRepos(tx).refreshTokens.revokeFamily(row.familyId) : 0;
          });
        }
        return revoked;
      });
    },

    async setupRequired(): Promise<boolean> {
      return orUnavailable(async () => (await repos.users.countAdmins()) === 0);
    },

    /** First-run setup: creates the first admin (a local account in MCP-Admin) while no admin exists. */
    async setup(input: { email: string; password: string; name: string }, ctx: RequestContext): Promise<TokenSet> {
      await options.throttle.check('setup', ctx);
      const passwordHash = await hashPassword(input.password);
      const created = await orUnavailable(() =>
        options.db.withTransaction(async (tx) => {
          const r = createRepos(tx);
          await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [SETUP_LOCK]);
          if ((await r.users.countAdmins()) > 0) return null;
          if (await r.users.findByEmail(input.email).then((u) => u?.source === 'local')) {
            throw new AppError('CONFLICT', 'A local account with this email exists');
          }
          const group = (await r.groups.findByName(ADMIN_GROUP)) ?? (await r.groups.create({ name: ADMIN_GROUP, description: 'Administrators of mcpgw', isAdmin: true }));
          const user = await r.users.create({ email: input.email, name: input.name, source: 'local' });
          await r.groups.addMember(group.id, user.id);
          await r.localCredentials.setPassword(user.id, passwordHash);
          await r.audit.append({
            actorUserId: null,
            actorEmail: 'setup',
            action: 'setup.admin.create',
            targetType: 'user',
            targetId: user.id,
            after: { email: user.email, group: ADMIN_GROUP },
            requestId: ctx.requestId,
          });
          return user;
        }),
      );
      if (!created) {
        security.record({ kind: 'forbidden', reason: 'setup attempted after an admin exists', clientIp: ctx.clientIp, requestId: ctx.requestId });
        throw new AppError('FORBIDDEN', 'Setup is closed: an admin already exists');
      }
      return orUnavailable(() => startSession(created.id, randomUUID(), new Date(Date.now() + options.refreshTtlSec * 1000)));
    },
  };
}
export type LocalAccountService = ReturnType<typeof createLocalAccountService>;

