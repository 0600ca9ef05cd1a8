import type { Queryable } from './db.js';
import { createAccessRepo } from './repos/access.repo.js';
import { createApiKeyRepo } from './repos/api-key.repo.js';
import { createAuditRepo } from './repos/audit.repo.js';
import { createGroupRepo } from './repos/group.repo.js';
import { createSecurityEventRepo } from './repos/security-event.repo.js';
import { createServerRepo } from './repos/server.repo.js';
import { createTenantRepo } from './repos/tenant.repo.js';
import { createUserRepo } from './repos/user.repo.js';
import { createTenantScopeRepo } from './repos/tenant-scope.repo.js';
import { createIdpMappingRepo } from './repos/idp-mapping.repo.js';
import { createLocalCredentialRepo } from './repos/local-credential.repo.js';
import { createM2mClientRepo } from './repos/m2m-client.repo.js';
import { createRefreshTokenRepo } from './repos/refresh-token.repo.js';
import { createSigningKeyRepo } from './repos/signing-key.repo.js';
import { createUserIdentityRepo } from './repos/user-identity.repo.js';
import { createRateLimitRuleRepo } from './repos/rate-limit-rule.repo.js';
import { createAccessBlockRepo } from './repos/access-block.repo.js';
import { createAnalyticsRepo } from './repos/analytics.repo.js';
import { createAnalyticsSummaryRepo } from './repos/analytics-summary.repo.js';
import { createMasterKeyCheckRepo } from './repos/master-key-check.repo.js';
import { createCiphertextRepo } from './repos/ciphertext.repo.js';

/** All repositories over one pool. Services take only the ones they use. */
export function createRepos(db: Queryable) {
  return {
    users: createUserRepo(db),
    tenantScope: createTenantScopeRepo(db),
    groups: createGroupRepo(db),
    access: createAccessRepo(db),
    servers: createServerRepo(db),
    tenants: createTenantRepo(db),
    apiKeys: createApiKeyRepo(db),
    audit: createAuditRepo(db),
    securityEvents: createSecurityEventRepo(db),
    userIdentities: createUserIdentityRepo(db),
    idpMappings: createIdpMappingRepo(db),
    localCredentials: createLocalCredentialRepo(db),
    refreshTokens: createRefreshTokenRepo(db),
    signingKeys: createSigningKeyRepo(db),
    m2mClients: createM2mClientRepo(db),
    rateLimitRules: createRateLimitRuleRepo(db),
    accessBlocks: createAccessBlockRepo(db),
    analytics: createAnalyticsRepo(db),
    analyticsSummary: createAnalyticsSummaryRepo(db),
    masterKeyChecks: createMasterKeyCheckRepo(db),
    ciphertexts: createCiphertextRepo(db),
  };
}
export type Repos = ReturnType<typeof createRepos>;
