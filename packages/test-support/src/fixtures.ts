import { generateApiKey } from '@mcpgw/crypto';
import type { Repos, User, Group } from '@mcpgw/db';
import { uniqueId } from './util.js';

export interface UserWithKey {
  user: User;
  key: string;
  keyId: string;
}

/** Builders for test data with unique names, so tests never collide. */
export function createFixtures(repos: Repos) {
  return {
    async user(opts: { groups?: Group[]; admin?: boolean; enabled?: boolean; tenantId?: string | null } = {}): Promise<UserWithKey> {
      const user = await repos.users.create({
        email: `${uniqueId('u')}@example.test`,
        name: 'Test User',
        source: 'local',
        isAdmin: opts.admin ?? false,
        enabled: opts.enabled ?? true,
        tenantId: opts.tenantId ?? null,
      });
      for (const g of opts.groups ?? []) await repos.groups.addMember(g.id, user.id);
      const k = await this.key(user.id);
      return { user, key: k.key, keyId: k.keyId };
    },
    async key(
      userId: string,
      opts: { expiresAt?: Date | null; allowServers?: string[] | null; blockServers?: string[] } = {},
    ): Promise<{ key: string; keyId: string }> {
      const generated = generateApiKey();
      const row = await repos.apiKeys.create({
        userId,
        name: 'test',
        keyHash: generated.hash,
        prefix: generated.prefix,
        expiresAt: opts.expiresAt ?? null,
        allowServers: opts.allowServers ?? null,
        blockServers: opts.blockServers ?? [],
      });
      return { key: generated.key, keyId: row.id };
    },
    async revoke(keyId: string): Promise<void> {
      await repos.apiKeys.revoke(keyId);
    },
    async disable(userId: string): Promise<void> {
      await repos.users.setEnabled(userId, false);
    },
    group(opts: { admin?: boolean; tenantId?: string | null } = {}): Promise<Group> {
      return repos.groups.create({ name: uniqueId('G-'), isAdmin: opts.admin ?? false, tenantId: opts.tenantId ?? null });
    },
  };
}
export type Fixtures = ReturnType<typeof createFixtures>;
