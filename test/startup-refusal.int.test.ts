import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@mcpgw/test-support';

/**
 * Matrix rows C6 (missing, short or wrong master key) and P1 (invalid config value): each service's
 * real main.ts, started as an operator would, must stop with exit 78 and a message naming the
 * variable, and never echo the secret it refused. A service that starts is stopped once it listens.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = {
  gateway: 'services/gateway/src/main.ts',
  'mcp-proxy': 'services/mcp-proxy/src/main.ts',
  'admin-portal': 'services/admin-portal/src/main.ts',
  'demo-server': 'services/demo-server/src/main.ts',
} as const;
type Service = keyof typeof MAIN;

interface Outcome {
  /** Exit code, or 'listening' when the service started (it is then stopped). */
  result: number | 'listening';
  output: string;
}

function start(service: Service, env: Record<string, string>): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN[service]], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let listening = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${service} neither exited nor listened within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      if (!listening && /listening/.test(output)) {
        listening = true;
        child.kill('SIGKILL');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ result: listening ? 'listening' : (code ?? -1), output });
    });
  });
}

const masterKey = (id: string, bytes = 32) => `${id}:${randomBytes(bytes).toString('base64')}`;
const SECRET = randomBytes(32).toString('base64url');

let t: TestDatabase;
let base: Record<Service, Record<string, string>>;

beforeAll(async () => {
  t = await createTestDatabase();
  const db = { DATABASE_URL: t.url, DB_SCHEMA: t.schema, GATEWAY_SIGNING_SECRET: SECRET, LOG_LEVEL: 'info' };
  base = {
    gateway: { ...db, GATEWAY_PORT: '0', RATE_LIMIT_ENABLED: 'false', ENABLE_API_ANALYTICS: 'false', SIGNING_KEY_ROTATION_DAYS: '0' },
    'mcp-proxy': { ...db, MCP_PROXY_PORT: '0', UPSTREAM_HEALTH_INTERVAL_SECONDS: '0', MCP_GRANT_WATCH_SECONDS: '0' },
    'admin-portal': { ...db, ADMIN_PORTAL_PORT: '0' },
    'demo-server': { DEMO_SERVER_PORT: '0' },
  };
});
afterAll(async () => {
  await t?.cleanup();
});

describe('C6: missing or short master key at start', () => {
  it('mcp-proxy without MASTER_KEYS exits 78 naming the variable', async () => {
    const { result, output } = await start('mcp-proxy', base['mcp-proxy']);
    expect(result).toBe(78);
    expect(output).toContain('MASTER_KEYS is required');
  }, 90_000);

  it.each(['mcp-proxy', 'admin-portal', 'gateway'] as const)('%s with a short key exits 78 naming the variable, without echoing the key', async (service) => {
    const short = masterKey('k1', 16);
    const { result, output } = await start(service, { ...base[service], MASTER_KEYS: short });
    expect(result).toBe(78);
    expect(output).toMatch(/MASTER_KEYS is invalid: key "k1" must decode to 32 bytes \(got 16\)/);
    expect(output).not.toContain(short.slice(3));
  }, 90_000);

});

describe('C6: wrong master key at start', () => {
  it('a key that differs from the one first recorded under its id stops every service (key check value)', async () => {
    const good = masterKey('k1');
    // The first start records the key check value of k1.
    expect((await start('mcp-proxy', { ...base['mcp-proxy'], MASTER_KEYS: good })).result).toBe('listening');
    const { rows } = await t.db.query<{ key_id: string; check_value: string }>('SELECT key_id, check_value FROM master_key_checks');
    expect(rows.map((r) => r.key_id)).toEqual(['k1']);
    expect(rows[0]!.check_value).not.toContain(good.slice(3));

    const wrong = masterKey('k1');
    const outcomes = await Promise.all((['mcp-proxy', 'admin-portal', 'gateway'] as const).map((s) => start(s, { ...base[s], MASTER_KEYS: wrong })));
    for (const { result, output } of outcomes) {
      expect(result).toBe(78);
      expect(output).toContain('MASTER_KEYS is wrong: key id "k1" did not match the key check value stored in the database');
      expect(output).not.toContain(wrong.slice(3));
    }

    // A new current key with the right old one is a rotation: it starts and is recorded.
    expect((await start('admin-portal', { ...base['admin-portal'], MASTER_KEYS: `${masterKey('k2')},${good}` })).result).toBe('listening');
    // The right key under its id still starts.
    expect((await start('mcp-proxy', { ...base['mcp-proxy'], MASTER_KEYS: good })).result).toBe('listening');
    // A wrong old key next to a good new one is caught too.
    const k2Rows = await t.db.query('SELECT 1 FROM master_key_checks WHERE key_id = $1', ['k2']);
    expect(k2Rows.rowCount).toBe(1);
    const mixed = await start('mcp-proxy', { ...base['mcp-proxy'], MASTER_KEYS: `${masterKey('k3')},${wrong}` });
    expect(mixed.result).toBe(78);
    expect(mixed.output).toContain('key id "k1"');
  }, 240_000);
});

/** P1: one bad value per service; the message names the variable and the process exits 78. */
const BAD_VALUES: [Service, string, string, RegExp][] = [
  ['gateway', 'GATEWAY_PORT', 'eighty', /GATEWAY_PORT /],
  ['gateway', 'TRUST_PROXY', '2', /TRUST_PROXY /],
  ['gateway', 'GATEWAY_SIGNING_SECRET', 'short', /GATEWAY_SIGNING_SECRET must be at least 32 characters/],
  ['gateway', 'RATE_LIMIT_PER_MINUTE', '-5', /RATE_LIMIT_PER_MINUTE /],
  ['mcp-proxy', 'DATABASE_URL', 'mysql://x', /DATABASE_URL must be a postgres:\/\/ URL/],
  ['mcp-proxy', 'MCP_TOOL_NAME_MAX_LENGTH', '100', /MCP_TOOL_NAME_MAX_LENGTH /],
  ['mcp-proxy', 'REDIS_URL', 'http://127.0.0.1:6379', /REDIS_URL must be a redis:\/\/ URL/],
  ['admin-portal', 'ADMIN_PORTAL_GATEWAY_URL', 'not a url', /ADMIN_PORTAL_GATEWAY_URL must be an http\(s\) URL/],
  ['admin-portal', 'DB_SCHEMA', 'Bad-Schema', /DB_SCHEMA must be a lower-case SQL identifier/],
  ['admin-portal', 'LOG_LEVEL', 'verbose', /LOG_LEVEL /],
  ['demo-server', 'DEMO_SERVER_PORT', '70000', /DEMO_SERVER_PORT /],
  ['demo-server', 'LOG_LEVEL', 'loud', /LOG_LEVEL /],
];

describe('P1: an invalid config value stops the service', () => {
  it.each(BAD_VALUES)('%s with %s=%s exits 78 naming it', async (service, name, value, message) => {
    const env = { ...base[service], MASTER_KEYS: masterKey('p1'), [name]: value };
    const { result, output } = await start(service, env);
    expect(result).toBe(78);
    expect(output).toMatch(message);
    if (name === 'GATEWAY_SIGNING_SECRET') expect(output).not.toContain(value);
  }, 90_000);
});
