import express from 'express';
import { it } from 'vitest';
import { assignRequestId, handleErrors, listen } from '@mcpgw/http';
import { createFixtures, createTestDatabase, silentLogger, testRedisUrl, uniqueId } from '@mcpgw/test-support';
import { createMcpProxyApp, createMcpProxyDeps, readConfig } from '../src/index.js';
import { createUpstreamForwarder } from '../../gateway/src/routes/upstream-forwarder.js';
import { gatewayHeaders } from '@mcpgw/test-support';
import { SECRET, MASTER_KEYS, makeIdentity, startDemoUpstream, initializeBody } from './support/harness.js';

it('scratch: drain mcp-proxy under load', async () => {
  const db = await createTestDatabase();
  const redis = (await testRedisUrl())!;
  const mk = async () => {
    const deps = createMcpProxyDeps(readConfig({ DATABASE_URL: db.url, DB_SCHEMA: db.schema, GATEWAY_SIGNING_SECRET: SECRET, MASTER_KEYS, REDIS_URL: redis, UPSTREAM_HEALTH_INTERVAL_SECONDS: '0' }), silentLogger('mcp-proxy'));
    const server = await listen(createMcpProxyApp(deps), { host: '127.0.0.1', port: 0 });
    return { deps, server };
  };
  const [a, b] = [await mk(), await mk()];
  const demo = await startDemoUpstream();
  const serverId = uniqueId('demo');
  await db.repos.servers.create({ id: serverId, name: 'Demo', transport: 'streamable-http', url: demo.url });
  const group = await createFixtures(db.repos).group();
  await db.repos.access.setGrant(group.id, serverId, ['*']);
  const identity = makeIdentity({ groups: [group.name] });
  const logs: string[] = [];
  const logger = silentLogger('gw');
  const fwd = createUpstreamForwarder({ name: 'mcp-proxy', urls: [a.server.url, b.server.url], maxBodyBytes: 1 << 20, logger: { ...logger, warn: (m: string, meta: unknown) => logs.push(m + JSON.stringify(meta)), info: (m: string, meta: unknown) => logs.push(m + JSON.stringify(meta)) } as never });
  const gw = express();
  gw.use(assignRequestId());
  gw.use((req, _res, next) => { const h = gatewayHeaders(SECRET, req.method, req.originalUrl, identity, Date.now()); for (const [k, v] of Object.entries(h)) req.headers[k] = v; next(); });
  gw.use((req, res, next) => fwd.handle(req, res, next));
  gw.use(handleErrors(logger, () => 'json-rpc'));
  const front = await listen(gw, { host: '127.0.0.1', port: 0 });
  const hdr = (sid?: string) => ({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25', ...(sid ? { 'mcp-session-id': sid } : {}) });
  const sessions: string[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await fetch(`${front.url}/mcp/${serverId}`, { method: 'POST', headers: hdr(), body: JSON.stringify(initializeBody()) });
    await r.text();
    sessions.push(r.headers.get('mcp-session-id')!);
  }
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
  for (let k = 0; k < 3; k++) {
    const c = new Client({ name: 'w', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${front.url}/mcp/${serverId}`)));
    await c.listTools();
  }
  await new Promise((r) => setTimeout(r, 300));
  const results: string[] = [];
  const pending: Promise<void>[] = [];
  const t0 = Date.now();
  let drained: unknown;
  setTimeout(() => { a.deps.lifecycle.draining = true; a.deps.sessions.drain(); void a.server.drain().then((r) => (drained = r)); }, 1000);
  let i = 0;
  while (Date.now() - t0 < 3000) {
    const sid = sessions[i % 30];
    const n = i++;
    pending.push(fetch(`${front.url}/mcp/${serverId}`, { method: 'POST', headers: hdr(sid), body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: 'echo', arguments: { text: `m${n}` } } }) }).then(async (r) => { const t = await r.text(); results.push(r.status === 200 && t.includes(`m${n}`) ? 'ok' : `${r.status}:${t.slice(0, 100)}`); }, (e) => void results.push(String(e))));
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(pending);
  const bad = results.filter((r) => r !== 'ok');
  console.log('RESULT', JSON.stringify({ total: results.length, bad: bad.length, sample: [...new Set(bad)].slice(0, 3), drained, logs: logs.filter((l) => l.includes('lost')).slice(0, 3) }));
});
