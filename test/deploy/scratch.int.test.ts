import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { createDemoServerApp } from '@mcpgw/demo-server';
import { listen, type ListeningServer } from '@mcpgw/http';
import { createFixtures, createTestDatabase, freePort, silentLogger, spareRedis, uniqueId, waitFor, type SpareRedis, type TestDatabase } from '@mcpgw/test-support';
import { openLoop, percentile, report, type Outcome } from './support/load.js';
import { serviceProcess, type ServiceProcess, type StopReport } from './support/service-process.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RATE_LIMIT = 120;
const LOAD_USERS = 100;

/**
 * Issue 7, point 5, for real on loopback: the repository's Caddyfile run by the real Caddy in front
 * of two gateway processes, each balancing over two mcp-proxy and two admin-portal processes, all
 * sharing one Postgres and one Redis (a throw-away redis-server of this test).
 */
describe('replicas on loopback: two gateways, two mcp-proxies, two admin portals behind Caddy', () => {
  let t: TestDatabase;
  let redis: SpareRedis;
  let demo: { server: ListeningServer; close(): Promise<void> };
  let caddy: ChildProcess;
  let caddyDir: string;
  let caddyLog = '';
  let edge: string;
  let proxies: ServiceProcess[];
  let portals: ServiceProcess[];
  let gateways: ServiceProcess[];
  let serverId: string;
  let loadKeys: string[];
  let limitedKey: string;
  let sdkKey: string;

  beforeAll(async () => {
    if (spawnSync('caddy', ['version']).status !== 0) throw new Error('caddy is not installed: run scripts/ensure-system-packages.sh as root');
    t = await createTestDatabase();
    redis = spareRedis(await freePort());
    await redis.start();
    const demoApp = createDemoServerApp(silentLogger('demo'));
    const demoServer = await listen(demoApp.app, { host: '127.0.0.1', port: 0 });
    demo = { server: demoServer, close: async () => (await demoServer.close(100), await demoApp.close()) };

    serverId = uniqueId('demo');
    await t.repos.servers.create({ id: serverId, name: 'Demo', transport: 'streamable-http', url: `${demoServer.url}/mcp` });
    const fx = createFixtures(t.repos);
    const group = await fx.group();
    await t.repos.access.setGrant(group.id, serverId, ['*']);
    loadKeys = [];
    for (let i = 0; i < LOAD_USERS; i++) loadKeys.push((await fx.user({ groups: [group] })).key);
    limitedKey = (await fx.user({ groups: [group] })).key;
    sdkKey = (await fx.user({ groups: [group] })).key;

    const common = {
      DATABASE_URL: t.url,
      DB_SCHEMA: t.schema,
      GATEWAY_SIGNING_SECRET: randomBytes(32).toString('base64url'),
      MASTER_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
    };
    const [mp1, mp2, ap1, ap2, gw1, gw2, edgePort, spare1, spare2] = await Promise.all(Array.from({ length: 9 }, () => freePort()));
    proxies = [mp1, mp2].map((port, i) =>
      serviceProcess(`mcp-proxy-${i + 1}`, 'services/mcp-proxy/src/main.ts', { ...common, MCP_PROXY_PORT: String(port) }, port!, '/health'),
    );
    portals = [ap1, ap2].map((port, i) =>
      serviceProcess(`admin-portal-${i + 1}`, 'services/admin-portal/src/main.ts', { ...common, ADMIN_PORTAL_PORT: String(port) }, port!, '/health'),
    );
    const gatewayEnv = {
      ...common,
      MCP_PROXY_URL: proxies.map((p) => p.url).join(','),
      ADMIN_PORTAL_URL: portals.map((p) => p.url).join(','),
      RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT),
      TRUST_PROXY: 'loopback',
    };
    gateways = [gw1, gw2].map((port, i) =>
      serviceProcess(`gateway-${i + 1}`, 'services/gateway/src/main.ts', { ...gatewayEnv, GATEWAY_PORT: String(port) }, port!, '/gateway/health'),
    );
    await Promise.all([...proxies, ...portals].map((p) => p.start()));
    await Promise.all(gateways.map((g) => g.start()));

    caddyDir = await mkdtemp(path.join(os.tmpdir(), 'mcpgw-caddy-replicas-'));
    edge = `http://127.0.0.1:${edgePort}`;
    caddy = spawn('caddy', ['run', '--config', 'Caddyfile', '--adapter', 'caddyfile'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: caddyDir,
        XDG_DATA_HOME: path.join(caddyDir, 'data'),
        XDG_CONFIG_HOME: path.join(caddyDir, 'config'),
        MCPGW_DOMAIN: edge,
        GATEWAY_UPSTREAM: gateways.map((g) => g.url.replace('http://', '')).join(' '),
        CADDY_ADMIN: 'off',
        CADDY_HTTP_PORT: String(spare1),
        CADDY_HTTPS_PORT: String(spare2),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    caddy.stdout!.on('data', (d) => (caddyLog = (caddyLog + d).slice(-50_000)));
    caddy.stderr!.on('data', (d) => (caddyLog = (caddyLog + d).slice(-50_000)));
    await waitFor(async () => {
      if (caddy.exitCode !== null) throw new Error(`caddy exited:\n${caddyLog}`);
      return fetch(`${edge}/gateway/health`).then((r) => r.ok, () => false);
    }, 20_000);
  }, 180_000);

  afterAll(async () => {
    caddy?.kill('SIGKILL');
    await Promise.all([...(gateways ?? []), ...(proxies ?? []), ...(portals ?? [])].map((p) => p.stop('SIGKILL')));
    await demo?.close();
    await redis?.kill();
    await t?.cleanup();
    if (caddyDir) await rm(caddyDir, { recursive: true, force: true });
  });

  const mcpHeaders = (key: string, sessionId?: string): Record<string, string> => ({
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
  });

  /** initialize + notifications/initialized, raw; returns the session id. */
  async function openSession(base: string, key: string): Promise<string> {
    const init = await fetch(`${base}/mcp/${serverId}`, {
      method: 'POST',
      headers: mcpHeaders(key),
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'load', version: '1' } } }),
    });
    const sessionId = init.headers.get('mcp-session-id');
    await init.text();
    if (init.status !== 200 || !sessionId) throw new Error(`initialize answered ${init.status}`);
    const done = await fetch(`${base}/mcp/${serverId}`, { method: 'POST', headers: mcpHeaders(key, sessionId), body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' });
    await done.text();
    return sessionId;
  }

  async function sdkClient(key: string) {
    const errors: string[] = [];
    const client = new Client({ name: 'replica-test', version: '1' });
    client.onerror = (err) => errors.push(err.message);
    const transport = new StreamableHTTPClientTransport(new URL(`${edge}/mcp/${serverId}`), { requestInit: { headers: { authorization: `Bearer ${key}` } } });
    await client.connect(transport);
    return { client, transport, errors };
  }

  const sessionsOn = async (p: ServiceProcess) => ((await (await fetch(`${p.url}/health`)).json()) as { sessions: number }).sessions;

  it('scratch: one mcp-proxy restart', async () => {
    const sessions = await Promise.all(loadKeys.slice(0, 50).map((key) => openSession(edge, key)));
    const one = async (i: number, base = edge) => {
      const res = await fetch(`${base}/mcp/${serverId}`, { method: 'POST', headers: mcpHeaders(loadKeys[i % 50]!, sessions[i % 50]), body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }) });
      const body = await res.text();
      return { status: res.status, served: res.status === 200 && body.includes('result'), detail: body.slice(0, 150) };
    };
    let drain: unknown;
    const rolling = (async () => { await new Promise((r) => setTimeout(r, 2000)); drain = await proxies[0]!.stop('SIGTERM'); })();
    const outcomes = await openLoop(50, 12_000, (i) => ({ kind: 'c', run: () => one(i) }));
    await rolling;
    const ms = outcomes.map((o) => o.ms);
    const lost = outcomes.filter((o) => !o.served);
    report('scratch-restart', { drain, p50: percentile(ms, 50), p99: percentile(ms, 99), lost: lost.length, lostAt: lost.slice(0, 10).map((o) => [Math.round(o.at), o.status, o.detail]) });
    console.log('MCP-PROXY-1 LOG', proxies[0]!.log().slice(-4000));
    console.log('GW-1 LOG', gateways[0]!.log().slice(-3000));
  }, 120_000);
});
