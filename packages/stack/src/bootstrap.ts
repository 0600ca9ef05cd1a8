import { generateApiKey } from '@mcpgw/crypto';
import { createRepos, type Db } from '@mcpgw/db';

export const ADMIN_GROUP = 'MCP-Admin';
export const DEMO_GROUP = 'MCP-Demo';
export const DEMO_SERVER_ID = 'demo';

export interface BootstrapOptions {
  adminEmail: string;
  /** URL of the demo MCP server to register (null: none). */
  demoServerUrl: string | null;
}

export interface BootstrapResult {
  /** The new admin's API key, only on the run that created the admin. */
  adminKey: string | null;
  adminEmail: string;
}

/**
 * First start: an `MCP-Admin` group (membership makes an admin), a bootstrap admin in it and an
 * API key for them. Later starts find an admin and create nothing. The demo server is registered
 * (or its URL brought up to date) with an `MCP-Demo` group granting all its tools.
 * One transaction: a failed start leaves nothing half-made.
 */
export async function bootstrap(db: Db, options: BootstrapOptions): Promise<BootstrapResult> {
  return db.withTransaction(async (tx) => {
    const repos = createRepos(tx);
    // Serialise concurrent first starts on the same database.
    await tx.query('SELECT pg_advisory_xact_lock(7405319)');
    let adminKey: string | null = null;
    if ((await repos.users.countAdmins()) === 0) {
      const group = (await repos.groups.findByName(ADMIN_GROUP)) ?? (await repos.groups.create({ name: ADMIN_GROUP, description: 'Administrators of mcpgw', isAdmin: true }));
      const user =
        (await repos.users.findByEmail(options.adminEmail)) ??
        (await repos.users.create({ email: options.adminEmail, name: 'Bootstrap admin', source: 'local' }));
      if (!user.enabled) await repos.users.setEnabled(user.id, true);
      await repos.groups.addMember(group.id, user.id);
      const key = generateApiKey();
      await repos.apiKeys.create({ userId: user.id, name: 'bootstrap', keyHash: key.hash, prefix: key.prefix });
      await repos.audit.append({
        actorUserId: null,
        actorEmail: 'system',
        action: 'bootstrap.admin.create',
        targetType: 'user',
        targetId: user.id,
        after: { email: user.email, group: ADMIN_GROUP, apiKeyPrefix: key.prefix },
      });
      adminKey = key.key;
    }
    if (options.demoServerUrl) {
      const existing = await repos.servers.findById(DEMO_SERVER_ID);
      if (!existing) {
        await repos.servers.create({
          id: DEMO_SERVER_ID,
          name: 'Demo',
          description: 'Harmless demo tools: get_current_time, echo, add',
          transport: 'streamable-http',
          url: options.demoServerUrl,
        });
        const group =
          (await repos.groups.findByName(DEMO_GROUP)) ??
          (await repos.groups.create({ name: DEMO_GROUP, description: 'May use every tool of the demo server' }));
        await repos.access.setGrant(group.id, DEMO_SERVER_ID, ['*']);
      } else if (existing.url !== options.demoServerUrl) {
        await repos.servers.setUrl(DEMO_SERVER_ID, options.demoServerUrl);
      }
    }
    return { adminKey, adminEmail: options.adminEmail };
  });
}
