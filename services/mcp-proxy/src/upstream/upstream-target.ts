import { createHash } from 'node:crypto';
import type { Keyring } from '@mcpgw/crypto';
import type { Server, TenantRepo } from '@mcpgw/db';
import { UpstreamUnavailableError } from './upstream.errors.js';

/** Where and how to reach one upstream server for one tenant. `headers` may hold a secret. */
export interface UpstreamTarget {
  url: URL;
  headers: Record<string, string>;
  /** Changes when the URL or the credential changes (a hash; no secret in it). */
  fingerprint: string;
  /** The secrets in `headers` (the key and the header value), to scrub from upstream error text. */
  secrets: readonly string[];
}

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

/**
 * The URL (the tenant's endpoint override, else the server's) and the headers for a tenant: its
 * decrypted key as `server.authHeader: server.authFormat` with `{key}` replaced. Nothing from the
 * caller's request is ever added.
 */
export async function resolveUpstreamTarget(server: Server, tenantId: string | null, deps: UpstreamTargetDeps): Promise<UpstreamTarget> {
  const [endpoint, key] = tenantId
    ? await Promise.all([deps.tenants.findEndpoint(tenantId, server.id), deps.tenants.findKey(tenantId, server.id)])
    : [null, null];
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
  if (key && tenantId) {
    let secret: string;
    try {
      secret = deps.keyring.decrypt(key.ciphertext, tenantKeyAad(tenantId, server.id));
    } catch (err) {
      // The reason names a key id at most (unknown master key, bad tag), never key material.
      throw new UpstreamUnavailableError(server.id, 'credential', `tenant key could not be decrypted (${(err as Error).message})`);
    }
    // A function replacement: `$&`, `$'`… in a key must not be expanded.
    const value = server.authFormat.replace('{key}', () => secret);
    if (!HEADER_NAME.test(server.authHeader) || !HEADER_VALUE.test(value)) {
      // fetch would put the bad value into its error message; refuse before it can.
      throw new UpstreamUnavailableError(server.id, 'credential', 'tenant key or auth header format is not a valid HTTP header');
    }
    headers[server.authHeader] = value;
    secrets.push(secret, value);
  }
  const fingerprint = createHash('sha256')
    .update([url.href, server.authHeader, server.authFormat, key?.ciphertext ?? ''].join('\n'))
    .digest('base64url');
  return { url, headers, fingerprint, secrets };
}
