import type { NextFunction, Request, Response } from 'express';
import { hashApiKey, looksLikeApiKey } from '@mcpgw/crypto';
import type { AccessBlock, ActiveBlocks } from '@mcpgw/db';
import { AppError, type SecurityEventRecorder } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import { clientIp } from '../domain/client-ip.js';

/** The mcpgw_ API key the request presents, if any (Authorization: Bearer or X-API-Key). */
function presentedApiKey(req: Request): string | null {
  const apiKey = req.headers[HEADER.apiKey];
  if (typeof apiKey === 'string' && looksLikeApiKey(apiKey.trim())) return apiKey.trim();
  const match = /^Bearer\s+(mcpgw_\S+)\s*$/i.exec(req.headers[HEADER.authorization] ?? '');
  return match && looksLikeApiKey(match[1]!) ? match[1]! : null;
}

const inForce = (b: AccessBlock | undefined, now: number) => (b && (!b.expiresAt || b.expiresAt.getTime() > now) ? b : undefined);

/**
 * 403 for a caller an admin blocked: its user, or the API key it presents. The blocks are the
 * in-memory copy the gateway reloads every LIMIT_RULES_CACHE_SECONDS, so a block or an unblock
 * takes effect within that time without a database read per request.
 */
export function refuseBlocked(options: { blocks: () => ActiveBlocks; security: SecurityEventRecorder }) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const identity = req.identity;
    if (!identity) {
      next();
      return;
    }
    const { users, keyHashes } = options.blocks();
    const now = Date.now();
    let block = inForce(users.get(identity.userId), now);
    let what = 'user';
    if (!block && keyHashes.size > 0) {
      const key = presentedApiKey(req);
      block = key ? inForce(keyHashes.get(hashApiKey(key)), now) : undefined;
      what = 'api-key';
    }
    if (!block) {
      next();
      return;
    }
    options.security.record({
      kind: 'blocked',
      reason: `${what} blocked${block.reason ? `: ${block.reason}` : ''}`,
      userId: identity.userId,
      userEmail: identity.email,
      clientIp: clientIp(req),
      requestId: req.requestId,
      details: { blockId: block.id, path: req.path },
    });
    next(new AppError('FORBIDDEN', what === 'user' ? 'This account is blocked by an administrator' : 'This API key is blocked by an administrator'));
  };
}
