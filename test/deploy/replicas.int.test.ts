import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { probe, serviceProcess, type ServiceProcess, type StopReport } from './support/service-process.js';

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
  let caddyAdmin = '';
  /** Caddy's error and warning lines and 5xx access-log lines, kept apart from the busy access log. */
  const caddyProblems: string[] = [];
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
      LOG_LEVEL: 'warn',
    };
    const [mp1, mp2, ap1, ap2, gw1, gw2, edgePort, spare1, spare2, adminPort] = await Promise.all(Array.from({ length: 10 }, () => freePort()));
    caddyAdmin = `127.0.0.1:${adminPort}`;
    proxies = [mp1, mp2].map((port, i) =>
      serviceProcess(`mcp-proxy-${i + 1}`, 'services/mcp-proxy/src/main.ts', { ...common, MCP_PROXY_PORT: String(port), LOG_LEVEL: 'info' }, port!, '/health'),
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
      // Failovers are logged at info: the test quotes them when a request is lost.
      LOG_LEVEL: 'info',
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
        CADDY_ADMIN: caddyAdmin,
        CADDY_HTTP_PORT: String(spare1),
        CADDY_HTTPS_PORT: String(spare2),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      caddyLog = (caddyLog + d).slice(-50_000);
      for (const line of String(d).split('\n')) if ((/"level":"(error|warn)"/.test(line) && !/read deadline|admin endpoint/.test(line)) || /"status":5\d\d/.test(line) || /health/.test(line)) caddyProblems.push(line.slice(0, 700));
    };
    caddy.stdout!.on('data', keep);
    caddy.stderr!.on('data', keep);
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

  const sessionsOn = async (p: ServiceProcess) => (JSON.parse((await probe(`${p.url}/health`)).body) as { sessions: number }).sessions;

  it('rate limits hold across both gateways: one budget in Redis, however requests are spread', async () => {
    const results = await Promise.all(
      Array.from({ length: 2 * RATE_LIMIT }, (_, i) =>
        fetch(`${gateways[i % 2]!.url}/mcp-admin/api/me`, { headers: { authorization: `Bearer ${limitedKey}` } }).then(async (r) => (await r.arrayBuffer(), { status: r.status, via: i % 2 })),
      ),
    );
    const accepted = results.filter((r) => r.status === 200);
    const figures = {
      limitPerMinute: RATE_LIMIT,
      sent: results.length,
      accepted: accepted.length,
      acceptedPerGateway: [0, 1].map((g) => accepted.filter((r) => r.via === g).length),
      refused429: results.filter((r) => r.status === 429).length,
      other: results.filter((r) => r.status !== 200 && r.status !== 429).length,
    };
    report('rate-limit-two-gateways', figures);
    expect(figures.other).toBe(0);
    expect(accepted.length).toBeGreaterThanOrEqual(RATE_LIMIT);
    // A Redis answer slower than 50 ms falls back to per-process insurance counters: a little slack.
    expect(accepted.length).toBeLessThanOrEqual(RATE_LIMIT + 10);
    expect(figures.acceptedPerGateway.every((n) => n > 0)).toBe(true);
  });

  it('an SDK session created through one mcp-proxy keeps working after that process is killed (SIGKILL)', async () => {
    const sdk = await sdkClient(sdkKey);
    expect((await sdk.client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['add', 'echo', 'get_current_time']);
    const counts = await Promise.all(proxies.map(sessionsOn));
    const holder = proxies[counts.findIndex((n) => n > 0)]!;
    const other = proxies.find((p) => p !== holder)!;
    const otherBefore = await sessionsOn(other);
    const killed = await holder.stop('SIGKILL');

    const started = performance.now();
    const result = await sdk.client.callTool({ name: 'echo', arguments: { text: 'after SIGKILL' } });
    const firstCallMs = Math.round(performance.now() - started);
    expect(result.content).toEqual([{ type: 'text', text: 'after SIGKILL' }]);
    expect((await sdk.client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).content).toEqual([{ type: 'text', text: '5' }]);
    expect(await sessionsOn(other)).toBeGreaterThan(otherBefore);
    const restarted = await holder.start();
    report('session-survives-sigkill', { killed: holder.name, signal: killed.signal, firstCallAfterKillMs: firstCallMs, takenOverBy: other.name, restartToHealthyMs: restarted.ms });
    await sdk.transport.terminateSession();
    await sdk.client.close();
  });

  it('a rolling restart of every service under steady load (100 requests/s) loses no request', async () => {
    const sessions = await Promise.all(loadKeys.map((key) => openSession(edge, key)));
    const watchers = await Promise.all([sdkClient(sdkKey), sdkClient(sdkKey)]);

    const shot = (i: number) => {
      const user = i % LOAD_USERS;
      const key = loadKeys[user]!;
      if (i % 10 === 0) {
        return {
          kind: 'admin-api',
          run: async () => {
            const res = await fetch(`${edge}/mcp-admin/api/me`, { headers: { authorization: `Bearer ${key}` } });
            const body = await res.text();
            return { status: res.status, served: res.status === 200 && body.includes('"userId"'), detail: body.slice(0, 200) };
          },
        };
      }
      if (i % 10 === 5) {
        return {
          kind: 'initialize',
          run: async () => {
            const res = await fetch(`${edge}/mcp/${serverId}`, {
              method: 'POST',
              headers: mcpHeaders(key),
              body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'load', version: '1' } } }),
            });
            const body = await res.text();
            return { status: res.status, served: res.status === 200 && body.includes('"serverInfo"') && res.headers.has('mcp-session-id'), detail: body.slice(0, 200) };
          },
        };
      }
      const marker = `call-${i}`;
      return {
        kind: 'tools/call',
        run: async () => {
          const res = await fetch(`${edge}/mcp/${serverId}`, {
            method: 'POST',
            headers: mcpHeaders(key, sessions[user]),
            body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { text: marker } } }),
          });
          const body = await res.text();
          return { status: res.status, served: res.status === 200 && body.includes('"result"') && body.includes(marker), detail: body.slice(0, 200) };
        },
      };
    };

    const order = [...proxies, ...portals, ...gateways];
    const restarts: { service: string; drain: StopReport; restartToHealthyMs: number }[] = [];
    let rollingDoneAt = Number.POSITIVE_INFINITY;
    const rolling = (async () => {
      await new Promise((r) => setTimeout(r, 2_000));
      for (const service of order) {
        const drain = await service.stop('SIGTERM');
        const { ms } = await service.start();
        restarts.push({ service: service.name, drain, restartToHealthyMs: ms });
        // As an orchestrator's "ready for a while" (Kubernetes minReadySeconds): the next instance
        // stops only once Caddy's health checks (every second) have seen this one back.
        await new Promise((r) => setTimeout(r, 2_000));
      }
      rollingDoneAt = performance.now();
    })();
    rolling.catch(() => (rollingDoneAt = performance.now()));
    const loadStarted = performance.now();
    const snapshots: string[] = [];
    const poller = setInterval(() => {
      const at = Math.round(performance.now() - loadStarted);
      void fetch(`http://${caddyAdmin}/reverse_proxy/upstreams`).then(async (r) => snapshots.push(`${at} ${await r.text()}`), () => undefined);
    }, 100);
    // 100 requests a second from 2 s before the first stop until 1 s after the last restart (90 s at most).
    const outcomes: Outcome[] = await openLoop(100, 90_000, shot, () => performance.now() > rollingDoneAt + 1_000);
    clearInterval(poller);
    const loadMs = Math.round(performance.now() - loadStarted);
    await rolling;
    const rollingEndedWithinLoad = restarts.length === order.length;

    // The long-lived SDK sessions (with their GET streams) went through it too.
    const survived: boolean[] = [];
    for (const w of watchers) {
      const r = await w.client.callTool({ name: 'echo', arguments: { text: 'still here' } }).catch(() => undefined);
      survived.push(JSON.stringify(r?.content ?? '').includes('still here'));
    }
    const lost = outcomes.filter((o) => !o.served);
    const byKind = Object.fromEntries(
      ['tools/call', 'initialize', 'admin-api'].map((kind) => {
        const mine = outcomes.filter((o) => o.kind === kind);
        return [kind, { sent: mine.length, served: mine.filter((o) => o.served).length }];
      }),
    );
    const ms = outcomes.map((o) => o.ms);
    const figures = {
      rps: 100,
      loadMs,
      sent: outcomes.length,
      served: outcomes.length - lost.length,
      lost: lost.length,
      byKind,
      latencyMs: { p50: Math.round(percentile(ms, 50)), p99: Math.round(percentile(ms, 99)), max: Math.round(Math.max(...ms)) },
      restarts: restarts.map((r) => ({ service: r.service, exit: r.drain.code, drainMs: r.drain.ms, restartToHealthyMs: r.restartToHealthyMs })),
      sessionsOpenedBefore: sessions.length,
      sdkSessionsSurvived: `${survived.filter(Boolean).length}/${survived.length}`,
      sdkStreamErrors: watchers.map((w) => w.errors.length),
      lostSamples: lost.slice(0, 5).map((o) => ({ kind: o.kind, at: Math.round(o.at), status: o.status, detail: o.detail })),
    };
    report('rolling-restart', figures);
    if (lost.length > 0) {
      // What the gateways said about the first lost requests (their request ids are in the bodies).
      const ids = lost.slice(0, 5).flatMap((o) => /"requestId":"([^"]+)"/.exec(o.detail ?? '')?.[1] ?? []);
      const lines = [...gateways, ...proxies].flatMap((g) => g.log().split('\n')).filter((l) => ids.some((id) => l.includes(id)));
      const logDir = await mkdtemp(path.join(os.tmpdir(), 'mcpgw-replicas-logs-'));
      for (const p of [...gateways, ...proxies, ...portals]) await writeFile(path.join(logDir, `${p.name}.log`), p.log());
      await writeFile(path.join(logDir, 'caddy-problems.log'), caddyProblems.join('\n'));
      await writeFile(path.join(logDir, 'caddy-upstreams.log'), snapshots.join('\n'));
      report('rolling-restart-lost-log', { logDir, lines: lines.slice(0, 6) });
    }
    for (const w of watchers) await w.client.close();

    expect(rollingEndedWithinLoad).toBe(true);
    expect(restarts.every((r) => r.drain.code === 0)).toBe(true);
    expect(restarts.every((r) => r.drain.ms < 10_500)).toBe(true);
    expect(lost).toEqual([]);
    expect(survived).toEqual([true, true]);
  }, 180_000);
});
