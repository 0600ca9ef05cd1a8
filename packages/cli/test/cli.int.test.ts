import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, uniqueId } from '@mcpgw/test-support';
import { COMMANDS, EXIT, runCli } from '@mcpgw/cli';
import { startInProcessStack, type InProcessStack } from '../../../test/support/in-process-stack.js';

/** The mcpgw CLI against the whole chain in-process (gateway → admin portal), with a token file. */
let stack: InProcessStack;
let home: string;
let serverId: string;
const BIN = path.resolve(import.meta.dirname, '../bin/mcpgw.mjs');

async function mcpgw(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env: { MCPGW_URL: stack.gatewayUrl }, home, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  stack = await startInProcessStack({ IDENTITY_CACHE_SECONDS: '0', RATE_LIMIT_PER_MINUTE: '100000' });
  const fx = createFixtures(stack.t.repos);
  const { key } = await fx.user({ groups: [await fx.group({ admin: true })] });
  home = await mkdtemp(path.join(tmpdir(), 'mcpgw-cli-'));
  await mkdir(path.join(home, '.config', 'mcpgw'), { recursive: true });
  await writeFile(path.join(home, '.config', 'mcpgw', 'token'), `${key}\n`);
  serverId = `cli-${Date.now().toString(36)}`;
}, 60_000);
afterAll(async () => {
  await stack?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('mcpgw CLI', () => {
  it('has --help for every command', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const r = await mcpgw(name, '--help');
      expect(r.code, name).toBe(0);
      expect(r.out).toContain(`usage: mcpgw ${name}`);
    }
    expect((await mcpgw('no-such-command')).code).toBe(EXIT.usage);
  });

  it('server-add, server-list, server-test (tools; exact error and exit 1)', async () => {
    const added = await mcpgw('server-add', '--id', serverId, '--name', 'Demo', '--url', stack.demoUrl);
    expect(added.code, added.err).toBe(0);
    const listed = JSON.parse((await mcpgw('server-list', '--json')).out);
    expect(listed.items.map((s: { id: string }) => s.id)).toContain(serverId);
    const test = await mcpgw('server-test', '--id', serverId);
    expect(test.code).toBe(0);
    expect(test.out).toMatch(/connected over streamable-http/);
    expect(test.out).toContain('echo');
    await mcpgw('server-add', '--id', `${serverId}-x`, '--name', 'Down', '--url', 'http://127.0.0.1:9/mcp');
    const down = await mcpgw('server-test', '--id', `${serverId}-x`, '--json');
    expect(down.code).toBe(EXIT.api);
    expect(JSON.parse(down.out)).toMatchObject({ ok: false, error: expect.any(String) });
  });

  it('import-group --file, export-group, group-list', async () => {
    const name = uniqueId('cli-group');
    const file = path.join(home, 'group.json');
    await writeFile(file, JSON.stringify({ scope_name: name, description: 'From the CLI', servers: [{ server_name: serverId, tools: ['echo'], access_level: 'execute' }], create_in_idp: true }));
    const imported = await mcpgw('import-group', '--file', file);
    expect(imported.code).toBe(0);
    expect(imported.out).toContain(`group ${name} created`);
    const out = path.join(home, 'exported.json');
    expect((await mcpgw('export-group', '--name', name, '--file', out)).code).toBe(0);
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ scope_name: name, servers: [{ server_name: serverId, tools: ['echo'] }] });
    expect((await mcpgw('group-list', '--query', name)).out).toContain(name);
    const bad = await mcpgw('import-group', '--file', path.join(home, 'missing.json'));
    expect(bad.code).toBe(EXIT.usage);
  });

  it('user-create-human, user-list, key-create (shown once), key-revoke; user-create-m2m', async () => {
    const group = uniqueId('cli-users');
    await mcpgw('import-group', '--file', await (async () => {
      const f = path.join(home, 'g2.json');
      await writeFile(f, JSON.stringify({ scope_name: group, description: 'x', servers: [] }));
      return f;
    })());
    const email = `${uniqueId('jsmith')}@example.test`;
    const created = await mcpgw('user-create-human', '--username', 'jsmith', '--email', email, '--first-name', 'John', '--last-name', 'Smith', '--groups', group, '--password', 'SecurePassword123!');
    expect(created.code).toBe(0);
    expect(created.out).toContain(`groups: ${group}`);
    expect((await mcpgw('user-list', '--query', email)).out).toContain('John Smith');
    const key = JSON.parse((await mcpgw('key-create', '--email', email, '--name', 'laptop', '--ttl-days', '30', '--json')).out);
    expect(key.key).toMatch(/^mcpgw_/);
    expect((await fetch(`${stack.gatewayUrl}/auth/me`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(200);
    expect((await mcpgw('key-revoke', '--key', key.key)).code).toBe(0);
    expect((await fetch(`${stack.gatewayUrl}/auth/me`, { headers: { authorization: `Bearer ${key.key}` } })).status).toBe(401);
    expect((await mcpgw('key-revoke')).code).toBe(EXIT.usage);
    const m2m = await mcpgw('user-create-m2m', '--name', uniqueId('agent').toLowerCase(), '--groups', group);
    expect(m2m.code).toBe(0);
    expect(m2m.out).toMatch(/client_secret: \S{20,}/);
  });

  it('fails with non-zero codes: API refusal (1), bad usage (2), no credential (3)', async () => {
    const refused = await mcpgw('user-create-human', '--email', 'not-an-email');
    expect(refused.code).toBe(EXIT.api);
    expect(refused.err).toMatch(/400 .*email/);
    expect((await mcpgw('key-create', '--email', 'x@example.test', '--ttl-days', 'soon')).code).toBe(EXIT.usage);
    const out: string[] = [];
    const code = await runCli(['user-list'], { env: { MCPGW_URL: stack.gatewayUrl }, home: path.join(home, 'nowhere'), out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(EXIT.connection);
    const plain = await createFixtures(stack.t.repos).user();
    const forbidden: string[] = [];
    expect(await runCli(['user-list'], { env: { MCPGW_URL: stack.gatewayUrl, MCPGW_TOKEN: plain.key }, home, out: () => {}, err: (l) => forbidden.push(l) })).toBe(EXIT.api);
    expect(forbidden.join()).toMatch(/403/);
  });

  it('the mcpgw bin runs as a process with the token file and exit codes', async () => {
    const run = promisify(execFile);
    const env = { ...process.env, HOME: home, MCPGW_URL: stack.gatewayUrl, MCPGW_TOKEN: '' };
    const ok = await run(process.execPath, [BIN, 'server-list'], { env });
    expect(ok.stdout).toContain(serverId);
    const failed = await run(process.execPath, [BIN, 'server-test', '--id', 'no-such-server'], { env }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toMatch(/404/);
  }, 30_000);
});
