import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, parseMasterKeys } from '@mcpgw/crypto';
import type { NewServer } from '@mcpgw/db';
import { captureLogger, createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import { tenantKeyAad } from '../src/index.js';
import { connectAs, makeIdentity, MASTER_KEYS, startProxy, type Proxy } from './support/harness.js';
import { everythingStdio, startEverything, startLegacySseUpstream } from './support/upstreams.js';

/** Pids of processes whose command line contains `marker`. */
function pidsWith(marker: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(marker) && !line.includes('ps -eo'))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

describe('mcp-proxy upstream transports: stdio, legacy SSE, Streamable HTTP restarts', () => {
  let proxy: Proxy;
  const { logger, lines } = captureLogger('mcp-proxy');
  const CANARY = `proxy-only-${randomBytes(8).toString('hex')}`;
  beforeAll(async () => {
    // Something only mcp-proxy's own environment holds: a stdio server must never see it.
    process.env.MCPGW_TEST_PROXY_SECRET = CANARY;
    proxy = await startProxy({ logger });
  });
  afterAll(async () => {
    delete process.env.MCPGW_TEST_PROXY_SECRET;
    await proxy?.close();
  });

  async function granted(server: Omit<NewServer, 'id' | 'name'>, tenantId: string | null = null) {
    const row = await proxy.db.repos.servers.create({ id: uniqueId('srv'), name: 'Upstream', ...server });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, row.id, ['*']);
    return { serverId: row.id, user: makeIdentity({ groups: [group.name], tenant: tenantId }) };
  }

  async function setTenantKey(serverId: string, key: string): Promise<string> {
    const tenant = await proxy.db.repos.tenants.create({ id: uniqueId('tn'), name: 'Tenant' });
    const keyring = createKeyring(parseMasterKeys(MASTER_KEYS));
    await proxy.db.repos.tenants.setKey({
      tenantId: tenant.id,
      serverId,
      ciphertext: keyring.encrypt(key, tenantKeyAad(tenant.id, serverId)),
      keyId: keyring.currentKeyId,
      last4: key.slice(-4),
    });
    return tenant.id;
  }

  it("stdio: server-everything is spawned per tenant with the server's env and the tenant key as env, never the proxy's environment", async () => {
    const marker = uniqueId('stdio-marker-');
    const { command, args } = everythingStdio();
    const { serverId, user: plain } = await granted({
      transport: 'stdio',
      command,
      args: [...args, marker],
      env: { EVERYTHING_GREETING: 'from the server config' },
      authHeader: 'EVERYTHING_API_TOKEN',
      authFormat: '{key}',
    });
    const tenantKey = `tk-${randomBytes(12).toString('hex')}`;
    const tenantId = await setTenantKey(serverId, tenantKey);
    const member = makeIdentity({ groups: plain.groups, tenant: tenantId });

    const withKey = await connectAs(proxy.url, `/mcp/${serverId}`, member);
    const without = await connectAs(proxy.url, `/mcp/${serverId}`, plain);
    try {
      const env = JSON.parse(((await withKey.client.callTool({ name: 'get-env', arguments: {} })).content as { text: string }[])[0]!.text) as Record<string, string>;
      expect(env.EVERYTHING_API_TOKEN).toBe(tenantKey);
      expect(env.EVERYTHING_GREETING).toBe('from the server config');
      expect(Object.values(env)).not.toContain(CANARY);
      expect(Object.keys(env).sort()).toEqual(expect.arrayContaining(['EVERYTHING_API_TOKEN', 'EVERYTHING_GREETING', 'PATH']));
      expect(Object.keys(env).filter((k) => !['EVERYTHING_API_TOKEN', 'EVERYTHING_GREETING', 'HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'].includes(k))).toEqual([]);

      const envWithout = JSON.parse(((await without.client.callTool({ name: 'get-env', arguments: {} })).content as { text: string }[])[0]!.text) as Record<string, string>;
      expect(envWithout.EVERYTHING_API_TOKEN).toBeUndefined();
      // One process per (server, tenant).
      expect(pidsWith(marker)).toHaveLength(2);

      // The rest of the protocol over stdio.
      expect((await withKey.client.callTool({ name: 'echo', arguments: { message: 'over stdio' } })).content).toEqual([{ type: 'text', text: 'Echo: over stdio' }]);
      expect((await withKey.client.readResource({ uri: 'demo://resource/dynamic/text/1' })).contents[0]).toMatchObject({ text: expect.stringContaining('Resource 1') });
      expect((await withKey.client.getPrompt({ name: 'simple-prompt' })).messages).toHaveLength(1);
      const progress: number[] = [];
      await withKey.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.3, steps: 2 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      expect(progress).toEqual([1, 2]);

      // A crashed process is spawned again on the next request.
      const [first] = pidsWith(marker);
      for (const pid of pidsWith(marker)) process.kill(pid, 'SIGKILL');
      await waitFor(() => pidsWith(marker).length === 0, 5_000);
      expect((await withKey.client.callTool({ name: 'echo', arguments: { message: 'again' } })).content).toEqual([{ type: 'text', text: 'Echo: again' }]);
      expect(pidsWith(marker).filter((p) => p !== first)).toHaveLength(1);
      expect(lines.filter((l) => l.includes(tenantKey))).toEqual([]);
    } finally {
      await withKey.close();
      await without.close();
    }
  });

  it('legacy HTTP+SSE: server-everything in SSE mode registered as "sse" serves tools, resources and progress', async () => {
    const legacy = await startEverything('sse');
    try {
      const { serverId, user } = await granted({ transport: 'sse', url: legacy.url });
      const one = await connectAs(proxy.url, `/mcp/${serverId}`, user);
      expect(one.client.getServerVersion()?.name).toBe('mcp-servers/everything');
      expect((await one.client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } })).content).toEqual([{ type: 'text', text: 'The sum of 2 and 3 is 5.' }]);
      expect((await one.client.listResources()).resources.length).toBeGreaterThan(0);
      const progress: number[] = [];
      await one.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      expect(progress).toEqual([1, 2]);
      await one.close();
    } finally {
      await legacy.close();
    }
  });

  it('the spec fallback rule: a "streamable-http" URL whose POST is refused with 405 is tried as a legacy SSE endpoint', async () => {
    const legacy = await startLegacySseUpstream();
    try {
      const { serverId, user } = await granted({ transport: 'streamable-http', url: legacy.url });
      const all = await connectAs(proxy.url, '/mcp', user);
      expect((await all.client.listTools()).tools.map((t) => t.name)).toEqual([`${serverId}__shout`]);
      expect((await all.client.callTool({ name: `${serverId}__shout`, arguments: { text: 'hello' } })).content).toEqual([{ type: 'text', text: 'HELLO' }]);
      expect(legacy.sessions()).toBe(1);
      expect(lines.some((l) => l.includes('trying legacy SSE') && l.includes(serverId))).toBe(true);
      await all.close();
    } finally {
      await legacy.close();
    }
  });

  it('a Streamable HTTP server killed and restarted: the next call reconnects transparently', async () => {
    const everything = await startEverything('streamableHttp');
    try {
      const { serverId, user } = await granted({ transport: 'streamable-http', url: everything.url });
      const one = await connectAs(proxy.url, `/mcp/${serverId}`, user);
      expect((await one.client.callTool({ name: 'echo', arguments: { message: 'before' } })).content).toEqual([{ type: 'text', text: 'Echo: before' }]);
      await everything.kill();
      await expect(one.client.callTool({ name: 'echo', arguments: { message: 'while down' } })).rejects.toMatchObject({ code: -32002 });
      await everything.restart();
      expect((await one.client.callTool({ name: 'echo', arguments: { message: 'after' } })).content).toEqual([{ type: 'text', text: 'Echo: after' }]);
      await one.close();
    } finally {
      await everything.close();
    }
  });
});
