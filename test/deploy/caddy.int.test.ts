import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createFixtures, freePort, uniqueId, waitFor } from '@mcpgw/test-support';
import { startInProcessStack, type InProcessStack } from '../support/in-process-stack.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function caddyAvailable(): boolean {
  return spawnSync('caddy', ['version']).status === 0;
}

/** GET over HTTPS trusting only Caddy's local CA: the certificate is really checked. */
function httpsGet(url: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The repository's Caddyfile, run by the real Caddy (Debian package) in front of the whole chain on
 * loopback: an authenticated MCP session and an admin page go through it, over HTTP and HTTPS.
 */
describe('Caddy at the edge (the repository Caddyfile)', () => {
  let stack: InProcessStack;
  let caddy: ChildProcess;
  let caddyLog = '';
  let dataDir: string;
  let httpUrl: string;
  let httpsUrl: string;
  let key: string;
  let demoId: string;

  beforeAll(async () => {
    if (!caddyAvailable()) throw new Error('caddy is not installed: run scripts/ensure-system-packages.sh as root (apt-get install caddy)');
    stack = await startInProcessStack({ TRUST_PROXY: 'loopback' });
    const fx = createFixtures(stack.t.repos);
    demoId = uniqueId('demo');
    await stack.t.repos.servers.create({ id: demoId, name: 'Demo', transport: 'streamable-http', url: stack.demoUrl });
    const admins = await fx.group({ admin: true });
    key = (await fx.user({ groups: [admins] })).key;

    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mcpgw-caddy-'));
    const [httpPort, httpsPort, redirectPort] = await Promise.all([freePort(), freePort(), freePort()]);
    httpUrl = `http://127.0.0.1:${httpPort}`;
    httpsUrl = `https://localhost:${httpsPort}`;
    caddy = spawn('caddy', ['run', '--config', 'Caddyfile', '--adapter', 'caddyfile'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: dataDir,
        XDG_DATA_HOME: path.join(dataDir, 'data'),
        XDG_CONFIG_HOME: path.join(dataDir, 'config'),
        MCPGW_DOMAIN: `${httpUrl}, ${httpsUrl}`,
        GATEWAY_UPSTREAM: stack.gatewayUrl.replace('http://', ''),
        CADDY_ADMIN: 'off',
        CADDY_HTTP_PORT: String(redirectPort),
        CADDY_HTTPS_PORT: String(httpsPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    caddy.stdout!.on('data', (d) => (caddyLog += d));
    caddy.stderr!.on('data', (d) => (caddyLog += d));
    await waitFor(async () => {
      if (caddy.exitCode !== null) throw new Error(`caddy exited:\n${caddyLog}`);
      try {
        return (await fetch(`${httpUrl}/gateway/health`)).ok;
      } catch {
        return false;
      }
    }, 20_000);
  }, 60_000);

  afterAll(async () => {
    caddy?.kill('SIGTERM');
    await stack?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('carries an authenticated MCP session to the gateway and back, streaming-safe', async () => {
    const client = new Client({ name: 'caddy-test', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${httpUrl}/mcp/${demoId}`), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['add', 'echo', 'get_current_time']);
    expect(await client.callTool({ name: 'echo', arguments: { text: 'through caddy' } })).toMatchObject({ content: [{ text: 'through caddy' }] });
    await transport.terminateSession();
    await client.close();
  });

  it('sends security headers, hides its Server header, compresses pages but not MCP streams', async () => {
    const page = await fetch(`${httpUrl}/mcp-admin/`, { headers: { authorization: `Bearer ${key}`, 'accept-encoding': 'gzip' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('strict-transport-security')).toContain('max-age=');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('server')).toBeNull();
    expect(page.headers.get('content-encoding')).toBe('gzip');
    const mcp = await fetch(`${httpUrl}/mcp/${demoId}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'accept-encoding': 'gzip' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }),
    });
    expect(mcp.status).toBe(200);
    expect(mcp.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(mcp.headers.get('content-encoding')).toBeNull();
    await mcp.text();
  });

  it('serves HTTPS with a certificate from its local CA for localhost', async () => {
    const ca = await readFile(path.join(dataDir, 'data', 'caddy', 'pki', 'authorities', 'local', 'root.crt'), 'utf8');
    const health = await httpsGet(`${httpsUrl}/gateway/health`, ca);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const me = await httpsGet(`${httpsUrl}/mcp-admin/api/me`, ca, { authorization: `Bearer ${key}` });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ admin: true });
    await expect(httpsGet(`${httpsUrl}/gateway/health`, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')).rejects.toThrow();
  });

  it('writes one JSON access-log line per request without the credential', async () => {
    await fetch(`${httpUrl}/gateway/health`, { headers: { authorization: `Bearer ${key}` } });
    const line = await waitFor(() => caddyLog.split('\n').find((l) => l.includes('"http.log.access') && l.includes('/gateway/health')));
    expect(() => JSON.parse(line)).not.toThrow();
    expect(caddyLog).not.toContain(key);
  });
});
