import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { createKeyring, parseMasterKeys } from '@mcpgw/crypto';
import type { Server } from '@mcpgw/db';
import { listen } from '@mcpgw/http';
import { captureLogger, createFixtures, freePort, uniqueId } from '@mcpgw/test-support';
import { tenantKeyAad, UNAVAILABLE_META_KEY } from '../src/index.js';
import {
  connectAs,
  makeIdentity,
  MASTER_KEYS,
  startDemoUpstream,
  startProxy,
  startRecordingUpstream,
  type Proxy,
} from './support/harness.js';

const UPSTREAM_UNAVAILABLE = -32002;

describe('mcp-proxy: upstream connections', () => {
  let proxy: Proxy;
  const { logger, lines } = captureLogger('mcp-proxy');
  beforeAll(async () => {
    proxy = await startProxy({ env: { UPSTREAM_LIST_TIMEOUT_MS: '700' }, logger });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const register = (url: string, extra: Partial<Server> = {}): Promise<Server> =>
    proxy.db.repos.servers.create({ id: uniqueId('srv'), name: 'Upstream', transport: 'streamable-http', url, ...extra });

  async function groupGranting(serverIds: string[]) {
    const group = await createFixtures(proxy.db.repos).group();
    for (const id of serverIds) await proxy.db.repos.access.setGrant(group.id, id, ['*']);
    return group;
  }

  it('an upstream that is down: a fast JSON-RPC error on call; on /mcp the others are listed and the down one reported', async () => {
    const demo = await startDemoUpstream();
    try {
      const up = await register(demo.url);
      const down = await register(`http://127.0.0.1:${await freePort()}/mcp`);
      const group = await groupGranting([up.id, down.id]);
      const user = makeIdentity({ groups: [group.name] });

      const one = await connectAs(proxy.url, `/mcp/${down.id}`, user);
      let started = Date.now();
      await expect(one.client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toMatchObject({
        code: UPSTREAM_UNAVAILABLE,
        message: expect.stringContaining(`Upstream server unavailable: ${down.id}`),
      });
      expect(Date.now() - started).toBeLessThan(2_000);
      await expect(one.client.listTools()).rejects.toMatchObject({ code: UPSTREAM_UNAVAILABLE });
      await one.close();

      const all = await connectAs(proxy.url, '/mcp', user);
      started = Date.now();
      const listed = await all.client.listTools();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(listed.tools.map((t) => t.name).sort()).toEqual([`${up.id}__add`, `${up.id}__echo`, `${up.id}__get_current_time`]);
      expect(listed._meta?.[UNAVAILABLE_META_KEY]).toEqual([down.id]);
      await expect(all.client.callTool({ name: `${down.id}__echo`, arguments: { text: 'x' } })).rejects.toMatchObject({
        code: UPSTREAM_UNAVAILABLE,
      });
      expect(await all.client.callTool({ name: `${up.id}__echo`, arguments: { text: 'still here' } })).toEqual({
        content: [{ type: 'text', text: 'still here' }],
      });
      await all.close();
      expect(lines.some((l) => l.includes('server left out of the list') && l.includes(down.id))).toBe(true);
    } finally {
      await demo.close();
    }
  });

  it('an upstream that never answers is cut off by the list timeout and the call timeout', async () => {
    const app = express();
    app.all('/mcp', () => undefined); // accepts the connection, never answers
    const hanging = await listen(app, { host: '127.0.0.1', port: 0 });
    const demo = await startDemoUpstream();
    try {
      const up = await register(demo.url);
      const slow = await register(`${hanging.url}/mcp`, { connectTimeoutMs: 600, callTimeoutMs: 600 });
      const user = makeIdentity({ groups: [(await groupGranting([up.id, slow.id])).name] });

      const all = await connectAs(proxy.url, '/mcp', user);
      let started = Date.now();
      const listed = await all.client.listTools();
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(listed.tools.map((t) => t.name)).toContain(`${up.id}__echo`);
      expect(listed._meta?.[UNAVAILABLE_META_KEY]).toEqual([slow.id]);
      started = Date.now();
      await expect(all.client.callTool({ name: `${slow.id}__echo`, arguments: { text: 'x' } })).rejects.toMatchObject({
        code: UPSTREAM_UNAVAILABLE,
        message: expect.stringContaining(`Upstream server unavailable: ${slow.id}`),
      });
      expect(Date.now() - started).toBeLessThan(3_000);
      await all.close();
    } finally {
      await hanging.close(50);
      await demo.close();
    }
  });

  it('an upstream that restarted (forgot our session) is reconnected once, transparently, and the connection is shared again', async () => {
    const demo = await startDemoUpstream();
    try {
      const server = await register(demo.url);
      const user = makeIdentity({ groups: [(await groupGranting([server.id])).name] });
      const one = await connectAs(proxy.url, `/mcp/${server.id}`, user);
      expect(await one.client.callTool({ name: 'echo', arguments: { text: 'before' } })).toEqual({ content: [{ type: 'text', text: 'before' }] });
      expect(demo.sessionCount()).toBe(1);
      await demo.forgetSessions();
      expect(demo.sessionCount()).toBe(0);
      expect(await one.client.callTool({ name: 'echo', arguments: { text: 'after' } })).toEqual({ content: [{ type: 'text', text: 'after' }] });
      expect(demo.sessionCount()).toBe(1);
      const two = await connectAs(proxy.url, `/mcp/${server.id}`, makeIdentity({ groups: user.groups }));
      expect((await two.client.listTools()).tools).toHaveLength(3);
      expect(demo.sessionCount()).toBe(1);
      await Promise.all([one.close(), two.close()]);
    } finally {
      await demo.close();
    }
  });

  it("a tenant's key goes upstream in the server's auth header, its endpoint override routes it, and no caller header follows", async () => {
    const demo = await startDemoUpstream();
    const recorder = await startRecordingUpstream();
    try {
      const server = await register(demo.url);
      const tenant = await proxy.db.repos.tenants.create({ id: uniqueId('tn'), name: 'Acme' });
      const tenantKey = `sk-${randomBytes(16).toString('hex')}-$&`; // `$&` must not be expanded
      const keyring = createKeyring(parseMasterKeys(MASTER_KEYS));
      await proxy.db.repos.tenants.setKey({
        tenantId: tenant.id,
        serverId: server.id,
        ciphertext: keyring.encrypt(tenantKey, tenantKeyAad(tenant.id, server.id)),
        keyId: keyring.currentKeyId,
        last4: tenantKey.slice(-4),
      });
      await proxy.db.repos.tenants.setEndpoint(tenant.id, server.id, recorder.url);
      const group = await groupGranting([server.id]);
      const member = makeIdentity({ groups: [group.name], tenant: tenant.id });

      const callerHeaders = { authorization: 'Bearer callers-own-token', cookie: 'owui=callers-cookie', 'x-custom-caller': 'yes' };
      const one = await connectAs(proxy.url, `/mcp/${server.id}`, member, { headers: callerHeaders });
      expect((await one.client.listTools()).tools.map((t) => t.name)).toEqual(['whoami', 'reject']);
      expect(await one.client.callTool({ name: 'whoami', arguments: {} })).toEqual({ content: [{ type: 'text', text: `auth=Bearer ${tenantKey}` }] });
      // An upstream JSON-RPC error comes back with its code, message and data, but never the key.
      const rejected = await one.client.callTool({ name: 'reject', arguments: {} }).catch((err: unknown) => err);
      expect(rejected).toMatchObject({
        code: ErrorCode.InvalidParams,
        message: 'MCP error -32602: MCP error -32602: invalid credential: [redacted]',
        data: { got: '[redacted]' },
      });
      expect(JSON.stringify(rejected)).not.toContain(tenantKey.slice(3, 35));
      await one.close();

      expect(recorder.requests.length).toBeGreaterThan(0);
      for (const headers of recorder.requests) {
        expect(headers.authorization).toBe(`Bearer ${tenantKey}`);
        expect(headers.cookie).toBeUndefined();
        expect(headers['x-custom-caller']).toBeUndefined();
        expect(Object.keys(headers).filter((h) => h.startsWith('x-user-') || h.startsWith('x-gateway-') || h === 'x-auth-method')).toEqual([]);
      }

      // Without the tenant: the server's own URL, no key.
      const seenByRecorder = recorder.requests.length;
      const outsider = makeIdentity({ groups: [group.name] });
      const other = await connectAs(proxy.url, `/mcp/${server.id}`, outsider);
      expect((await other.client.listTools()).tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'get_current_time']);
      await other.close();
      expect(recorder.requests.length).toBe(seenByRecorder);

      // The key never reaches a log line.
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.filter((l) => l.includes(tenantKey.slice(3, 35)))).toEqual([]);
    } finally {
      await recorder.close();
      await demo.close();
    }
  });

  it("a tenant key encrypted for another tenant or server does not decrypt: the call fails without leaking anything", async () => {
    const recorder = await startRecordingUpstream();
    try {
      const server = await register(recorder.url);
      const tenant = await proxy.db.repos.tenants.create({ id: uniqueId('tn'), name: 'Beta' });
      const tenantKey = `sk-${randomBytes(16).toString('hex')}`;
      const keyring = createKeyring(parseMasterKeys(MASTER_KEYS));
      await proxy.db.repos.tenants.setKey({
        tenantId: tenant.id,
        serverId: server.id,
        ciphertext: keyring.encrypt(tenantKey, tenantKeyAad('another-tenant', server.id)),
        keyId: keyring.currentKeyId,
        last4: tenantKey.slice(-4),
      });
      const user = makeIdentity({ groups: [(await groupGranting([server.id])).name], tenant: tenant.id });
      const one = await connectAs(proxy.url, `/mcp/${server.id}`, user);
      const failure = await one.client.callTool({ name: 'whoami', arguments: {} }).catch((err: unknown) => err);
      expect(failure).toMatchObject({ code: UPSTREAM_UNAVAILABLE, message: expect.stringContaining(`Upstream server unavailable: ${server.id}`) });
      expect(JSON.stringify(failure)).not.toContain(tenantKey);
      await one.close();
      expect(recorder.requests).toEqual([]);
      expect(lines.some((l) => l.includes('tenant key could not be decrypted'))).toBe(true);
    } finally {
      await recorder.close();
    }
  });
});
