import type { Queryable } from './db.js';
import { createAccessRepo } from './repos/access.repo.js';
import { createApiKeyRepo } from './repos/api-key.repo.js';
import { createAuditRepo } from './repos/audit.repo.js';
import { createGroupRepo } from './repos/group.repo.js';
import { createSecurityEventRepo } from './repos/security-event.repo.js';
import { createServerRepo } from './repos/server.repo.js';
import { createTenantRepo } from './repos/tenant.repo.js';
import { createUserRepo } from './repos/user.repo.js';

/** All repositories over one pool. Services take only the ones they use. */
export function createRepos(db: Queryable) {
  return {
    users: createUserRepo(db),
    groups: createGroupRepo(db),
    access: createAccessRepo(db),
    servers: createServerRepo(db),
    tenants: createTenantRepo(db),
    apiKeys: createApiKeyRepo(db),
    audit: createAuditRepo(db),
    securityEvents: createSecurityEventRepo(db),
  };
}
export type Repos = ReturnType<typeof createRepos>;
