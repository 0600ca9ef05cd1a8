import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER } from '@mcpgw/identity';
import { createFixtures, uniqueId, waitFor } from '@mcpgw/test-support';
import {
  initializeBody,
  makeIdentity,
  PREVIOUS_SECRET,
  rawPost,
  startDemoUpstream,
  startProxy,
  type Proxy,
  type SigningOptions,
} from './support/harness.js';

describe('mcp-proxy: only requests the gateway signed are served', () => {
  let proxy: Proxy;
  let upstream: Awaited<ReturnType<typeof startDemoUpstream>>;
  let serverId: string;
  let groupName: string;
  beforeAll(async () => {
    proxy = await startProxy({ env: { MCP_ALLOWED_ORIGINS: 'https://chat.example.test' } });
    upstream = await startDemoUpstream();
    serverId = uniqueId('demo');
    await proxy.db.repos.servers.create({ id: serverId, name: 'Demo', transport: 'streamable-http', url: upstream.url });
    const group = await createFixtures(proxy.db.repos).group();
    await proxy.db.repos.access.setGrant(group.id, serverId, ['*']);
    groupName = group.name;
  });
  afterAll(async () => {
    await upstream?.close();
    await proxy?.close();
  });

  const storedEvent = (requestId: string, kind: string) =>
    waitFor(async () => (await proxy.db.repos.securityEvents.list({ kind, requestId }))[0]);

  it('serves /health without identity', async () => {
    const res = await fetch(`${proxy.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', checks: { database: 'ok' } });
  });

  it('a correctly signed initialize opens a session (the control case)', async () => {
    const res = await rawPost(`${proxy.url}/mcp/${serverId}`, initializeBody(), { identity: makeIdentity({ groups: [groupName] }) });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await res.body?.cancel();
  });

  it('accepts the previous secret during a rotation', async () => {
    const res = await rawPost(`${proxy.url}/mcp/${serverId}`, initializeBody(), {
      identity: makeIdentity({ groups: [groupName] }),
      secret: PREVIOUS_SECRET,
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  });

  const refused: [string, string, SigningOptions & { unsigned?: boolean }][] = [
    ['no signature at all', 'missing', { unsigned: true }],
    ['a signature made with another secret', 'mismatch', { secret: `not-the-gateway-${randomUUID()}` }],
    ['a signature made 60 s ago', 'stale', { nowMs: () => Date.now() - 60_000 }],
    ['a header changed after signing (groups widened)', 'mismatch', { tamper: (h) => h.set(HEADER.userGroups, 'MCP-Admin') }],
    ['a header changed after signing (admin flag)', 'mismatch', { tamper: (h) => h.set(HEADER.userAdmin, 'true') }],
  ];

  it.each(refused)('refuses %s with 403, serves nothing and stores a bad-gateway-signature event', async (_what, reason, signing) => {
    const requestId = uniqueId('req');
    const sessionsBefore = proxy.deps.sessions.size();
    const identity = signing.unsigned ? null : makeIdentity({ groups: [groupName] });
    const res = await rawPost(`${proxy.url}/mcp/${serverId}`, initializeBody(), { ...signing, identity, requestId });
    expect(res.status).toBe(403);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { message: 'Request did not come through the gateway' } });
    expect(proxy.deps.sessions.size()).toBe(sessionsBefore);
    const event = await storedEvent(requestId, 'bad-gateway-signature');
    expect(event).toMatchObject({ reason, service: 'mcp-proxy' });
  });

  it('refuses a valid signature lifted onto another path or method', async () => {
    const identity = makeIdentity({ groups: [groupName] });
    for (const signAs of [{ path: '/mcp' }, { method: 'GET' }]) {
      const requestId = uniqueId('req');
      const res = await rawPost(`${proxy.url}/mcp/${serverId}`, initializeBody(), { identity, requestId, signAs });
      expect(res.status, JSON.stringify(signAs)).toBe(403);
      await res.body?.cancel();
      expect(await storedEvent(requestId, 'bad-gateway-signature')).toMatchObject({ reason: 'mismatch' });
    }
  });

  it('refuses a browser Origin that is not allowed with 403 and a JSON-RPC error; an allowed one passes', async () => {
    const identity = makeIdentity({ groups: [groupName] });
    const evil = await rawPost(`${proxy.url}/mcp`, initializeBody(), { identity, headers: { origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('mcp-session-id')).toBeNull();
    expect(await evil.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { message: 'Origin not allowed' } });

    const allowed = await rawPost(`${proxy.url}/mcp`, initializeBody(), { identity, headers: { origin: 'https://chat.example.test' } });
    expect(allowed.status).toBe(200);
    await allowed.body?.cancel();
  });
});
