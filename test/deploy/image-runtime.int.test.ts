import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, freePort, waitFor, type TestDatabase } from '@mcpgw/test-support';
import { ROOT } from './support/compose.js';

const run = promisify(execFile);

/**
 * What `docker build -f infra/Dockerfile --build-arg SERVICE=…` puts in an image, assembled here
 * without Docker: the deps stage's command (`pnpm install --frozen-lockfile --prod --filter
 * "@mcpgw/<service>..."`, from the local pnpm store, offline) over the manifests, then the runtime
 * stage's COPY lines minus what .dockerignore keeps out (tests). The service must start from that
 * folder alone and pass the image's HEALTHCHECK command: no devDependency or file outside the
 * image is needed at run time.
 */

const SERVICES = [
  { name: 'gateway', portVariable: 'GATEWAY_PORT' },
  { name: 'mcp-proxy', portVariable: 'MCP_PROXY_PORT' },
  { name: 'admin-portal', portVariable: 'ADMIN_PORTAL_PORT' },
] as const;

/** Copies a source folder the way the build context does: without tests and node_modules. */
function copySources(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(ROOT, src);
      const base = path.basename(src);
      if (base === 'node_modules' || base.endsWith('.test.ts')) return false;
      return !/^(packages|services)\/[^/]+\/test(\/|$)/.test(rel);
    },
  });
}

function assemble(service: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `mcpgw-image-${service}-`));
  for (const f of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml']) cpSync(path.join(ROOT, f), path.join(dir, f));
  for (const group of ['packages', 'services']) {
    for (const pkg of readdirSync(path.join(ROOT, group))) {
      const manifest = path.join(ROOT, group, pkg, 'package.json');
      if (statSync(path.join(ROOT, group, pkg)).isDirectory()) cpSync(manifest, path.join(dir, group, pkg, 'package.json'));
    }
  }
  return dir;
}

describe('images, assembled without Docker: each service starts from its production dependencies only', () => {
  let t: TestDatabase;
  const dirs: string[] = [];
  const masterKeys = `k1:${randomBytes(32).toString('base64')}`;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await t?.cleanup();
  });

  it.each(SERVICES)('$name', async ({ name, portVariable }) => {
    const dir = assemble(name);
    dirs.push(dir);
    const pnpmArgs = ['--yes', 'pnpm@10.34.8', 'install', '--frozen-lockfile', '--prod', '--filter', `@mcpgw/${name}...`, '--config.public-hoist-pattern=tsx', '--reporter=silent'];
    // Offline from the store the workspace was installed from; online if the store lacks a package.
    await run('npx', [...pnpmArgs, '--offline'], { cwd: dir }).catch(() => run('npx', pnpmArgs, { cwd: dir }));
    copySources(path.join(ROOT, 'packages'), path.join(dir, 'packages'));
    copySources(path.join(ROOT, 'services'), path.join(dir, 'services'));
    cpSync(path.join(ROOT, 'infra/healthcheck.mjs'), path.join(dir, 'infra/healthcheck.mjs'));
    // No devDependency of the root (vitest, typescript) in the image.
    expect(readdirSync(path.join(dir, 'node_modules'))).not.toContain('vitest');

    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      NODE_ENV: 'production',
      MCPGW_SERVICE: name,
      [portVariable]: String(port),
      DATABASE_URL: t.url,
      DB_SCHEMA: t.schema,
      GATEWAY_SIGNING_SECRET: randomBytes(32).toString('base64url'),
      // One key for all three services: they share the database, where its check value is recorded.
      MASTER_KEYS: masterKeys,
      LOG_LEVEL: 'warn',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', `services/${name}/src/main.ts`], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (d) => (log += d));
    child.stderr!.on('data', (d) => (log += d));
    try {
      // The image's HEALTHCHECK command, run as Docker would run it.
      await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`${name} exited: ${log}`);
          return run(process.execPath, ['infra/healthcheck.mjs'], { cwd: dir, env }).then(() => true, () => false);
        },
        60_000,
        200,
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(child.exitCode).toBe(0);
  }, 120_000);
});
