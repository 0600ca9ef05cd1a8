import { createHash } from 'node:crypto';
import type { Keyring } from '@mcpgw/crypto';
import type { Server, TenantRepo } from '@mcpgw/db';
import { UpstreamUnavailableError } from './upstream.errors.js';

interface TargetCommon {
  /** Changes when anything about the connection changes: URL, command, credential (a hash; no secret in it). */
  fingerprint: string;
  /** The secrets the target carries (the key and the header/env value), to scrub from upstream text. */
  secrets: readonly string[];
}

/** An HTTP server: Streamable HTTP (with the spec's fallback to legacy SSE) or legacy SSE. `headers` may hold a secret. */
export interface HttpTarget extends TargetCommon {
  kind: 'http';
  transport: 'streamable-http' | 'sse';
  url: URL;
  headers: Record<string, string>;
}

/** A stdio server, spawned with exactly this environment (plus the SDK's PATH/HOME/USER/LOGNAME/SHELL/TERM). */
export interface StdioTarget extends TargetCommon {
  kind: 'stdio';
  command: string;
  args: string[];
  env: Record<string, string>;
}

export type UpstreamTarget = HttpTarget | StdioTarget;

export interface UpstreamTargetDeps {
  tenants: Pick<TenantRepo, 'findKey' | 'findEndpoint'>;
  keyring: Pick<Keyring, 'decrypt'>;
}

/**
 * The additional data bound to a tenant key's ciphertext. The admin portal must encrypt with the
 * same value (`keyring.encrypt(key, tenantKeyAad(tenantId, serverId))`), so a ciphertext copied to
 * another tenant or server does not decrypt.
 */
export function tenantKeyAad(tenantId: string, serverId: string): string {
  return `${tenantId}:${serverId}`;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fingerprintOf(parts: readonly string[]): string {
  return createHash('sha256').update(parts.join('\n')).digest('base64url');
}

async function tenantSecret(server: Server, tenantId: string | null, deps: UpstreamTargetDeps): Promise<{ secret: string; ciphertext: string } | null> {
  if (!tenantId) return null;
  const key = await deps.tenants.findKey(tenantId, server.id);
  if (!key) return null;
  try {
    return { secret: deps.keyring.decrypt(key.ciphertext, tenantKeyAad(tenantId, server.id)), ciphertext: key.ciphertext };
  } catch (err) {
    // The reason names a key id at most (unknown master key, bad tag), never key material.
    throw new UpstreamUnavailableError(server.id, 'credential', `tenant key could not be decrypted (${(err as Error).message})`);
  }
}

/** `server.authFormat` with `{key}` replaced (a function replacement: `$&`, `$'`… in a key are not expanded). */
const formatKey = (server: Server, secret: string) => server.authFormat.replace('{key}', () => secret);

function stdioTarget(server: Server, key: { secret: string; ciphertext: string } | null): StdioTarget {
  if (!server.command) throw new UpstreamUnavailableError(server.id, 'no-url', 'no command configured');
  const env: Record<string, string> = { ...server.env };
  const secrets: string[] = [];
  if (key) {
    // For stdio servers auth_header names the environment variable the key is passed in.
    if (!ENV_NAME.test(server.authHeader)) {
      throw new UpstreamUnavailableError(server.id, 'credential', 'auth header is not a valid environment variable name for a stdio server');
    }
    const value = formatKey(server, key.secret);
    env[server.authHeader] = value;
    secrets.push(key.secret, value);
  }
  const fingerprint = fingerprintOf([server.command, JSON.stringify(server.args), JSON.stringify(server.env), server.authHeader, server.authFormat, key?.ciphertext ?? '']);
  return { kind: 'stdio', command: server.command, args: [...server.args], env, fingerprint, secrets };
}

/**
 * Where and how to reach one upstream server for one tenant. HTTP: the tenant's endpoint override,
 * else the server's URL, and its decrypted key as `server.authHeader: server.authFormat`. stdio:
 * the server's command and non-secret env, plus the key as the environment variable named by
 * `server.authHeader`. Nothing from the caller's request is ever added.
 */
export async function resolveUpstreamTarget(server: Server, tenantId: string | null, deps: UpstreamTargetDeps): Promise<UpstreamTarget> {
  if (server.transport === 'stdio') return stdioTarget(server, await tenantSecret(server, tenantId, deps));
  const [endpoint, key] = await Promise.all([
    tenantId ? deps.tenants.findEndpoint(tenantId, server.id) : Promise.resolve(null),
    tenantSecret(server, tenantId, deps),
  ]);
  const raw = endpoint ?? server.url;
  if (!raw) throw new UpstreamUnavailableError(server.id, 'no-url', 'no URL configured');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UpstreamUnavailableError(server.id, 'no-url', 'the configured URL is not valid');
  }
  const headers: Record<string, string> = {};
  const secrets: string[] = [];
  if (key) {
    const value = formatKey(server, key.secret);
    if (!HEADER_NAME.test(server.authHeader) || !HEADER_VALUE.test(value)) {
      // fetch would put the bad value into its error message; refuse before it can.
      throw new UpstreamUnavailableError(server.id, 'credential', 'tenant key or auth header format is not a valid HTTP header');
    }
    headers[server.authHeader] = value;
    secrets.push(key.secret, value);
  }
  const fingerprint = fingerprintOf([server.transport, url.href, server.authHeader, server.authFormat, key?.ciphertext ?? '']);
  return { kind: 'http', transport: server.transport, url, headers, fingerprint, secrets };
}
