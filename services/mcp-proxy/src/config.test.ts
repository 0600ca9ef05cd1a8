import { describe, expect, it } from 'vitest';
import { ConfigError } from '@mcpgw/config';
import { mcpProxyEnv, readConfig } from './config.js';

const KEY = Buffer.alloc(32, 7).toString('base64');
const valid = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  GATEWAY_SIGNING_SECRET: 'x'.repeat(32),
  MASTER_KEYS: `k1:${KEY}`,
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    readConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error('config was accepted');
}

describe('mcp-proxy configuration', () => {
  it('has defaults for everything but the database, the signing secret and the master keys', () => {
    const config = readConfig(valid);
    expect(config).toMatchObject({
      MCP_PROXY_HOST: '127.0.0.1',
      MCP_PROXY_PORT: 8000,
      DB_SCHEMA: 'mcpgw',
      SIGNATURE_MAX_AGE_SECONDS: 30,
      MCP_SESSION_IDLE_SECONDS: 1800,
      MCP_SESSIONS_PER_USER: 50,
      UPSTREAM_LIST_TIMEOUT_MS: 5000,
      MCP_ALLOWED_ORIGINS: [],
      MCP_GRANT_CACHE_SECONDS: 5,
      LOG_LEVEL: 'info',
    });
    expect(config.GATEWAY_SIGNING_SECRET_PREVIOUS).toBeUndefined();
    expect(config.MASTER_KEYS).toEqual([{ id: 'k1', key: Buffer.alloc(32, 7) }]);
  });

  it('reports every missing secret at once, naming the variables', () => {
    const problems = problemsOf({});
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL is required.*npm start/),
        expect.stringMatching(/^GATEWAY_SIGNING_SECRET /),
        expect.stringMatching(/^MASTER_KEYS /),
      ]),
    );
  });

  it('refuses a short signing secret, a bad database URL and bad master keys without echoing key material', () => {
    const problems = problemsOf({ ...valid, DATABASE_URL: 'mysql://x', GATEWAY_SIGNING_SECRET: 'short', MASTER_KEYS: 'k1:c2hvcnQ=' });
    expect(problems).toHaveLength(3);
    expect(problems.find((p) => p.startsWith('DATABASE_URL'))).toMatch(/postgres:\/\//);
    expect(problems.find((p) => p.startsWith('GATEWAY_SIGNING_SECRET'))).toMatch(/at least 32/);
    const keys = problems.find((p) => p.startsWith('MASTER_KEYS'));
    expect(keys).toMatch(/32 bytes/);
    expect(keys).not.toContain('c2hvcnQ');
  });

  it('reads the origin list and the previous secret', () => {
    const config = readConfig({ ...valid, MCP_ALLOWED_ORIGINS: 'https://a.example, https://b.example', GATEWAY_SIGNING_SECRET_PREVIOUS: 'y'.repeat(40) });
    expect(config.MCP_ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
    expect(config.GATEWAY_SIGNING_SECRET_PREVIOUS).toBe('y'.repeat(40));
  });

  it('describes every variable (docs/configuration.md is checked against these)', () => {
    for (const [name, schema] of Object.entries(mcpProxyEnv.shape)) expect(schema.description, name).toBeTruthy();
  });
});
