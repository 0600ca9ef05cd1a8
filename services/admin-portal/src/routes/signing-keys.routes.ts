import type { Router } from 'express';
import type { Db, Repos } from '@mcpgw/db';
import { auditedChange } from './identity-admin.js';

/**
 * /mcp-admin/api/signing-keys: the gateway's token-signing keys (public data only) and their
 * rotation. Rotating retires the current key; the gateway signs with a new one from its next
 * token on (within 10 s on every instance), and keeps publishing the old one until its tokens
 * have expired.
 */
export function registerSigningKeyRoutes(router: Router, deps: { db: Pick<Db, 'withTransaction'>; repos: Pick<Repos, 'signingKeys'> }): void {
  router.get('/mcp-admin/api/signing-keys', async (_req, res) => {
    const keys = await deps.repos.signingKeys.list();
    res.json({ items: keys.map((k) => ({ kid: k.kid, alg: k.alg, createdAt: k.createdAt, retiredAt: k.retiredAt })) });
  });

  router.post('/mcp-admin/api/signing-keys/rotate', async (req, res) => {
    const retired = await auditedChange(deps.db, req, async (repos) => {
      const kids = await repos.signingKeys.retireCurrent();
      return { result: kids, audit: { action: 'signing-key.rotate', targetType: 'signing-key', targetId: kids.join(',') || null, after: { retired: kids } } };
    });
    res.status(202).json({ retired });
  });
}
