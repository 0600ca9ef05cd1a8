import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort, testRedisUrl, uniqueId } from '@mcpgw/test-support';

const ROOT = path.resolve(import.meta.dirname, '..');

interface Stack {
  child: ChildProcess;
  output: () => string;
  gatewayUrl: string;
}

/** Runs what `npm start` runs, on free ports, and waits for the banner. */
async function startStack(dataDir: string, extraEnv: Record<string, string> = {}): Promise<Stack> {
  const [gw, proxy, portal, demo] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MCPGW_DATA_DIR: dataDir,
    GATEWAY_PORT: String(gw),
    MCP_PROXY_PORT: String(proxy),
    ADMIN_PORTAL_PORT: String(portal),
    DEMO_SERVER_PORT: String(demo),
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'packages/stack/src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 90_000;
  while (!out.includes('Press Ctrl-C to stop everything')) {
    if (child.exitCode !== null) throw new Error(`stack exited early (${child.exitCode}):\n${out}`);
    if (Date.now() > deadline) throw new Error(`stack did not start in time:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => out, gatewayUrl: `http://127.0.0.1:${gw}` };
}

async function stopStack(stack: Stack): Promise<number | null> {
  if (stack.child.exitCode !== null) return stack.child.exitCode;
  const exited = new Promise<number | null>((r) => stack.child.once('exit', (code) => r(code)));
  stack.child.kill('SIGINT');
  return exited;
}

async function callDemoTool(gatewayUrl: string, key: string) {
  const client = new Client({ name: 'stack-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp/demo`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello from the stack test' } });
    return { tools: tools.map((t) => t.name).sort(), result };
  } finally {
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

const KEY = /(mcpgw_[A-Za-z0-9_-]{43})/;

describe('npm start (the one-machine stack)', () => {
  const stacks: Stack[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const s of stacks.splice(0)) await stopStack(s);
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('starts on the embedded defaults, prints a working admin key once, stops on Ctrl-C and keeps the data', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mcpgw-stack-'));
    dirs.push(dataDir);

    const first = await startStack(dataDir);
    stacks.push(first);
    const banner = first.output();
    expect(banner).toContain('embedded Postgres (PGlite)');
    expect(banner).toContain('in-process counters');
    expect(banner).toContain(`${first.gatewayUrl}/mcp-admin`);
    const key = KEY.exec(banner)?.[1];
    expect(key, banner).toBeDefined();
    expect((await stat(path.join(dataDir, 'secrets.json'))).mode & 0o777).toBe(0o600);

    const { tools, result } = await callDemoTool(first.gatewayUrl, key!);
    expect(tools).toEqual(['add', 'echo', 'get_current_time']);
    expect(result).toMatchObject({ content: [{ type: 'text', text: 'hello from the stack test' }] });
    const me = await fetch(`${first.gatewayUrl}/mcp-admin/api/me`, { headers: { authorization: `Bearer ${key}` } });
    expect(await me.json()).toMatchObject({ email: 'admin@mcpgw.local', admin: true, groups: ['MCP-Admin'] });

    expect(await stopStack(first)).toBe(0);
    stacks.pop();
    await expect(fetch(`${first.gatewayUrl}/gateway/health`)).rejects.toThrow();

    const second = await startStack(dataDir);
    stacks.push(second);
    expect(second.output()).toContain('exists already');
    expect(KEY.test(second.output())).toBe(false);
    const again = await callDemoTool(second.gatewayUrl, key!);
    expect(again.result).toMatchObject({ content: [{ type: 'text', text: 'hello from the stack test' }] });
  }, 180_000);

  it('uses the real Postgres and Redis when DATABASE_URL and REDIS_URL are set, starting nothing embedded', async (ctx) => {
    const redisUrl = await testRedisUrl();
    const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    if (!redisUrl) ctx.skip();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mcpgw-stack-'));
    dirs.push(dataDir);
    const schema = uniqueId('t_');
    const stack = await startStack(dataDir, { DATABASE_URL: databaseUrl, DB_SCHEMA: schema, REDIS_URL: redisUrl! });
    stacks.push(stack);
    try {
      expect(stack.output()).toContain('PostgreSQL at postgres://');
      expect(stack.output()).toContain('Redis (shared counters)');
      expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);
      const key = KEY.exec(stack.output())?.[1];
      const health = await (await fetch(`${stack.gatewayUrl}/gateway/health`)).json();
      expect(health).toMatchObject({ rateLimitStore: 'shared' });
      const { result } = await callDemoTool(stack.gatewayUrl, key!);
      expect(result).toMatchObject({ content: [{ text: 'hello from the stack test' }] });
    } finally {
      await stopStack(stack);
      stacks.pop();
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }, 180_000);
});
