import type { Request } from 'express';
import { z } from 'zod';
import { createRepos, type AuditEntry, type Db, type Repos } from '@mcpgw/db';
import { identityOf } from '@mcpgw/http';

/** Server ids as the servers table allows them. */
export const SERVER_ID = z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'must be a server id');
export const SERVER_LIST = z.array(SERVER_ID).max(500);

/**
 * Runs `work` in one transaction with repositories bound to it, and appends the audit entry it
 * returns in the same transaction: a change and its audit row are stored together or not at all.
 */
export async function auditedChange<T>(
  db: Pick<Db, 'withTransaction'>,
  req: Request,
  work: (repos: Repos) => Promise<{ result: T; audit: Omit<AuditEntry, 'actorUserId' | 'actorEmail' | 'requestId'> | null }>,
): Promise<T> {
  const actor = identityOf(req);
  return db.withTransaction(async (tx) => {
    const repos = createRepos(tx);
    const { result, audit } = await work(repos);
    if (audit) await repos.audit.append({ ...audit, actorUserId: actor.userId, actorEmail: actor.email, requestId: req.requestId });
    return result;
  });
}
