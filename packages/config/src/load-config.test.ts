import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from './index.js';

const schema = z.object({
  PORT: env.port(8085).describe('listen port'),
  PUBLIC_URL: env.url().describe('public URL'),
  DATABASE_URL: env.postgresUrl().describe('postgres'),
  REDIS_URL: env.redisUrl().describe('redis'),
  GATEWAY_SECRET: env.secret().describe('HMAC secret'),
  TRUST_PROXY: env.bool(false).describe('trust proxy'),
  LOG_LEVEL: env.logLevel().describe('log level'),
  ALLOWED_ORIGINS: env.list().describe('origins'),
  DB_SCHEMA: env.dbSchema().describe('schema'),
});

const SECRET = 's'.repeat(32);
const valid = {
  PUBLIC_URL: 'https://gw.example.test',
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  GATEWAY_SECRET: SECRET,
};

function configError(source: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig('gateway', schema, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('parses a valid environment and applies defaults', () => {
    expect(loadConfig('gateway', schema, valid)).toEqual({
      PORT: 8085,
      PUBLIC_URL: 'https://gw.example.test',
      DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      GATEWAY_SECRET: SECRET,
      TRUST_PROXY: false,
      LOG_LEVEL: 'info',
      ALLOWED_ORIGINS: [],
      DB_SCHEMA: 'mcpgw',
    });
  });

  it('uses given values over defaults', () => {
    const cfg = loadConfig('gateway', schema, {
      ...valid,
      PORT: '9000',
      TRUST_PROXY: 'true',
      LOG_LEVEL: 'debug',
      ALLOWED_ORIGINS: 'https://a.test, https://b.test',
      DB_SCHEMA: 'tenant_x',
    });
    expect(cfg).toMatchObject({ PORT: 9000, TRUST_PROXY: true, LOG_LEVEL: 'debug', DB_SCHEMA: 'tenant_x' });
    expect(cfg.ALLOWED_ORIGINS).toEqual(['https://a.test', 'https://b.test']);
  });

  it('reports every bad variable in one ConfigError, each by name', () => {
    const err = configError({
      // GATEWAY_SECRET missing
      PORT: 'eighty',
      PUBLIC_URL: 'not a url',
      DATABASE_URL: 'mysql://x',
      REDIS_URL: 'http://127.0.0.1:6379',
      TRUST_PROXY: 'maybe',
      LOG_LEVEL: 'verbose',
      DB_SCHEMA: 'Bad-Schema',
    });
    const byName = Object.fromEntries(err.problems.map((p) => [p.split(' ')[0], p]));
    expect(Object.keys(byName).sort()).toEqual(
      ['DATABASE_URL', 'DB_SCHEMA', 'GATEWAY_SECRET', 'LOG_LEVEL', 'PORT', 'PUBLIC_URL', 'REDIS_URL', 'TRUST_PROXY'].sort(),
    );
    expect(byName.GATEWAY_SECRET).toBe('GATEWAY_SECRET is required');
    expect(byName.PUBLIC_URL).toBe('PUBLIC_URL must be an http(s) URL');
    expect(byName.DATABASE_URL).toBe('DATABASE_URL must be a postgres:// URL');
    expect(byName.REDIS_URL).toBe('REDIS_URL must be a redis:// URL');
    expect(byName.TRUST_PROXY).toBe('TRUST_PROXY must be true or false');
    expect(byName.DB_SCHEMA).toBe('DB_SCHEMA must be a lower-case SQL identifier');
    expect(err.name).toBe('ConfigError');
    expect(err.message.startsWith('gateway: invalid configuration:')).toBe(true);
    for (const name of Object.keys(byName)) expect(err.message).toContain(`  - ${name} `);
  });

  it('reports each missing required variable, and only those', () => {
    const err = configError({});
    expect(err.problems.slice().sort()).toEqual(
      ['DATABASE_URL is required', 'GATEWAY_SECRET is required', 'PUBLIC_URL is required', 'REDIS_URL is required'].sort(),
    );
  });

  it('treats empty and blank strings as unset: defaults apply, required ones are reported missing', () => {
    const cfg = loadConfig('gateway', schema, { ...valid, PORT: '', TRUST_PROXY: '  ', LOG_LEVEL: '', DB_SCHEMA: '' });
    expect(cfg).toMatchObject({ PORT: 8085, TRUST_PROXY: false, LOG_LEVEL: 'info', DB_SCHEMA: 'mcpgw' });
    const err = configError({ ...valid, GATEWAY_SECRET: '' });
    expect(err.problems).toEqual(['GATEWAY_SECRET is required']);
  });

  it('trims surrounding whitespace from values', () => {
    const cfg = loadConfig('gateway', schema, { ...valid, PORT: ' 9001 ', PUBLIC_URL: ' https://x.test/ ' });
    expect(cfg.PORT).toBe(9001);
    expect(cfg.PUBLIC_URL).toBe('https://x.test/');
  });

  it('ignores variables the schema does not name', () => {
    const cfg = loadConfig('gateway', schema, { ...valid, UNRELATED: 'x', PATH: '/usr/bin' }) as Record<string, unknown>;
    expect(cfg).not.toHaveProperty('UNRELATED');
    expect(cfg).not.toHaveProperty('PATH');
  });

  it('does not echo a bad secret in the error', () => {
    const err = configError({ ...valid, GATEWAY_SECRET: 'short-CANARY' });
    expect(err.problems).toEqual(['GATEWAY_SECRET must be at least 32 characters']);
    expect(err.message).not.toContain('CANARY');
  });

  it.each([
    ['-1'],
    ['65536'],
    ['80.5'],
    ['8080abc'],
    ['port'],
  ])('rejects port %j', (v) => {
    expect(configError({ ...valid, PORT: v }).problems.map((p) => p.split(' ')[0])).toEqual(['PORT']);
  });
});

describe('env helpers', () => {
  const parse = <T extends z.ZodType>(s: T, v: string | undefined) => s.safeParse(v);

  describe('bool', () => {
    it.each([
      ['true', true],
      ['1', true],
      ['yes', true],
      ['false', false],
      ['0', false],
      ['no', false],
    ])('%j → %s', (input, expected) => {
      expect(parse(env.bool(!expected), input)).toEqual({ success: true, data: expected });
    });

    it('falls back to its default when unset', () => {
      expect(parse(env.bool(true), undefined)).toEqual({ success: true, data: true });
      expect(parse(env.bool(false), undefined)).toEqual({ success: true, data: false });
    });

    it.each(['TRUE', 'on', 'off', 'y', '2', 'truthy'])('rejects %j', (v) => {
      const r = parse(env.bool(false), v);
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.message).toBe('must be true or false');
    });
  });

  describe('list', () => {
    it('splits on commas, trims and drops empty items', () => {
      expect(parse(env.list(), ' a, b ,,c , ')).toEqual({ success: true, data: ['a', 'b', 'c'] });
    });
    it('is [] when unset or blank', () => {
      expect(parse(env.list(), undefined)).toEqual({ success: true, data: [] });
      expect(parse(env.list(), ' , ')).toEqual({ success: true, data: [] });
    });
    it('keeps one item without commas', () => {
      expect(parse(env.list(), 'only')).toEqual({ success: true, data: ['only'] });
    });
  });

  describe('postgresUrl', () => {
    it.each(['postgres://u:p@h:5432/d', 'postgresql://h/d'])('accepts %s', (v) => {
      expect(parse(env.postgresUrl(), v).success).toBe(true);
    });
    it.each(['mysql://h/d', 'http://h', 'postgres:/h', ' postgres://h', 'h:5432', ''])('rejects %j', (v) => {
      expect(parse(env.postgresUrl(), v).success).toBe(false);
    });
    it('has no default', () => {
      expect(parse(env.postgresUrl(), undefined).success).toBe(false);
    });
  });

  describe('redisUrl', () => {
    it.each(['redis://127.0.0.1:6379', 'rediss://u:p@h:6380/1'])('accepts %s', (v) => {
      expect(parse(env.redisUrl(), v).success).toBe(true);
    });
    it.each(['http://h', 'redis:/h', 'unix:///tmp/r.sock', '127.0.0.1:6379', ''])('rejects %j', (v) => {
      expect(parse(env.redisUrl(), v).success).toBe(false);
    });
  });

  describe('url', () => {
    it.each(['http://localhost:8080', 'https://a.b/c?d=e'])('accepts %s', (v) => {
      expect(parse(env.url(), v).success).toBe(true);
    });
    it.each(['ftp://a.b', 'file:///etc/passwd', 'javascript:alert(1)', 'a.b', ''])('rejects %j', (v) => {
      expect(parse(env.url(), v).success).toBe(false);
    });
  });

  describe('secret', () => {
    it('accepts exactly the minimum length and more', () => {
      expect(parse(env.secret(), 'x'.repeat(32)).success).toBe(true);
      expect(parse(env.secret(16), 'x'.repeat(16)).success).toBe(true);
      expect(parse(env.secret(), 'x'.repeat(100)).success).toBe(true);
    });
    it('rejects one character short, with the minimum in the message', () => {
      const r = parse(env.secret(), 'x'.repeat(31));
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]?.message).toBe('must be at least 32 characters');
      expect(parse(env.secret(16), 'x'.repeat(15)).error?.issues[0]?.message).toBe('must be at least 16 characters');
    });
    it('has no default', () => {
      expect(parse(env.secret(), undefined).success).toBe(false);
    });
  });

  describe('dbSchema', () => {
    it('defaults to mcpgw', () => {
      expect(parse(env.dbSchema(), undefined)).toEqual({ success: true, data: 'mcpgw' });
    });
    it.each(['mcpgw', '_t', 't_abc123', 'a'.repeat(63)])('accepts %s', (v) => {
      expect(parse(env.dbSchema(), v)).toEqual({ success: true, data: v });
    });
    it.each(['Mcpgw', '1abc', 'a-b', 'a b', 'a;drop', '"x"', 'a'.repeat(64), ''])('rejects %j', (v) => {
      expect(parse(env.dbSchema(), v).success).toBe(false);
    });
  });

  describe('numbers, log level and host', () => {
    it('port coerces strings, defaults when unset, allows 0 and 65535', () => {
      expect(parse(env.port(80), '443')).toEqual({ success: true, data: 443 });
      expect(parse(env.port(80), undefined)).toEqual({ success: true, data: 80 });
      expect(parse(env.port(80), '0').success).toBe(true);
      expect(parse(env.port(80), '65535').success).toBe(true);
    });
    it('positiveInt refuses 0, nonNegativeInt accepts it', () => {
      expect(parse(env.positiveInt(5), '0').success).toBe(false);
      expect(parse(env.positiveInt(5), '7')).toEqual({ success: true, data: 7 });
      expect(parse(env.nonNegativeInt(5), '0')).toEqual({ success: true, data: 0 });
      expect(parse(env.nonNegativeInt(5), '-1').success).toBe(false);
    });
    it('logLevel accepts the four levels only', () => {
      for (const l of ['error', 'warn', 'info', 'debug']) expect(parse(env.logLevel(), l).success).toBe(true);
      expect(parse(env.logLevel(), 'trace').success).toBe(false);
    });
    it('host defaults and refuses empty', () => {
      expect(parse(env.host('127.0.0.1'), undefined)).toEqual({ success: true, data: '127.0.0.1' });
      expect(parse(env.host('127.0.0.1'), '').success).toBe(false);
    });
  });
});

describe('env.trustProxy', () => {
  const schema = z.object({ TRUST_PROXY: env.trustProxy() });
  const parse = (v?: string) => loadConfig('t', schema, { TRUST_PROXY: v }).TRUST_PROXY;
  it('trusts nobody when unset, empty or false', () => {
    expect(parse()).toBe(false);
    expect(parse('false')).toBe(false);
  });
  it('accepts presets, addresses and CIDR ranges as a list', () => {
    expect(parse('loopback, 10.85.0.0/24,::1,fd00::/8')).toEqual(['loopback', '10.85.0.0/24', '::1', 'fd00::/8']);
    expect(parse('true')).toBe(true);
  });
  it.each(['1', 'loopbak', '10.0.0.0/33', '300.1.1.1', '10.0.0.0/8/1'])('refuses %s, naming the variable', (v) => {
    expect(() => parse(v)).toThrow(/TRUST_PROXY has entries/);
  });
});
