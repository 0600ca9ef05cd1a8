import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Which addresses an upstream server URL (or a tenant endpoint) may point at. Link-local, cloud
 * metadata, unspecified and multicast addresses are always refused: nothing legitimate lives
 * there and they are the classic SSRF targets (169.254.169.254 hands out cloud credentials).
 * Loopback is refused unless allowed (dev and tests run demo servers on 127.0.0.1, production
 * must not let an admin aim mcp-proxy at its own Redis or Postgres); private ranges are allowed
 * unless refused, because enterprise MCP servers live on RFC 1918 networks.
 */
export interface UrlPolicy {
  allowLoopback: boolean;
  allowPrivate: boolean;
}

export type AddressClass = 'public' | 'private' | 'loopback' | 'link-local' | 'metadata' | 'unspecified' | 'multicast';

/** Thrown (or its reason returned) when a URL is refused; the message names the host and why, never a credential. */
export class UrlPolicyError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'UrlPolicyError';
  }
}

function blockList(v4: readonly string[], v6: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of v4) {
    const [net, bits] = cidr.split('/');
    list.addSubnet(net!, Number(bits), 'ipv4');
  }
  for (const cidr of v6) {
    const [net, bits] = cidr.split('/');
    list.addSubnet(net!, Number(bits), 'ipv6');
  }
  return list;
}

/** Cloud metadata services (AWS/GCP/Azure, ECS task credentials, AWS IPv6 IMDS, Alibaba, Oracle). */
const METADATA = blockList(['169.254.169.254/32', '169.254.170.2/32', '100.100.100.200/32', '192.0.0.192/32'], ['fd00:ec2::254/128']);
const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);
const UNSPECIFIED = blockList(['0.0.0.0/8'], ['::/128']);
const LOOPBACK = blockList(['127.0.0.0/8'], ['::1/128']);
const LINK_LOCAL = blockList(['169.254.0.0/16'], ['fe80::/10']);
const MULTICAST = blockList(['224.0.0.0/4', '240.0.0.0/4'], ['ff00::/8']);
const PRIVATE = blockList(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'], ['fc00::/7']);

/** `::ffff:1.2.3.4` (and the hex spelling `::ffff:102:304`) is the IPv4 address it wraps. */
function unmapped(ip: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const lower = ip.toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return { address: dotted[1]!, family: 'ipv4' };
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return { address: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, family: 'ipv4' };
  }
  return { address: ip, family: isIP(ip) === 4 ? 'ipv4' : 'ipv6' };
}

/** The class of one IP address (v4, v6 or v4-mapped v6). */
export function classifyAddress(ip: string): AddressClass {
  const { address, family } = unmapped(ip);
  if (METADATA.check(address, family)) return 'metadata';
  if (UNSPECIFIED.check(address, family)) return 'unspecified';
  if (LOOPBACK.check(address, family)) return 'loopback';
  if (LINK_LOCAL.check(address, family)) return 'link-local';
  if (MULTICAST.check(address, family)) return 'multicast';
  if (PRIVATE.check(address, family)) return 'private';
  return 'public';
}

function refusal(cls: AddressClass, policy: UrlPolicy): string | null {
  if (cls === 'public') return null;
  if (cls === 'private') return policy.allowPrivate ? null : 'a private address (SERVER_URL_ALLOW_PRIVATE is false)';
  if (cls === 'loopback') return policy.allowLoopback ? null : 'a loopback address (set SERVER_URL_ALLOW_LOOPBACK=true for local development)';
  return `a ${cls} address`;
}

export type Lookup = (host: string) => Promise<readonly { address: string }[]>;

const LOOKUP_TIMEOUT_MS = 2000;
const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

async function resolveAll(host: string, lookup: Lookup): Promise<readonly { address: string }[] | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), LOOKUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([lookup(host).catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why `raw` may not be used as an upstream URL under `policy`, or null when it may. Only http and
 * https; the host is checked as written and, for a name, every address it resolves to (one denied
 * address is enough to refuse: a resolver may answer either). A name that does not resolve is let
 * through: nothing can be reached through it, and the check is made again at connect time.
 */
export async function urlPolicyRefusal(raw: string | URL, policy: UrlPolicy, lookup: Lookup = systemLookup): Promise<string | null> {
  let url: URL;
  try {
    url = typeof raw === 'string' ? new URL(raw) : raw;
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `scheme ${url.protocol} is not allowed (only http and https)`;
  if (url.username || url.password) return 'credentials in the URL are not allowed (use a tenant key)';
  // WHATWG URL has already turned 2130706433, 0x7f.1 and friends into dotted IPv4.
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  if (METADATA_HOSTS.has(host)) return `host ${host} is a cloud metadata service`;
  const addresses = isIP(host) ? [{ address: host }] : await resolveAll(host, lookup);
  for (const { address } of addresses ?? []) {
    const why = refusal(classifyAddress(address), policy);
    if (why) return isIP(host) ? `host ${host} is ${why}` : `host ${host} resolves to ${address}, ${why}`;
  }
  return null;
}

/** Throws UrlPolicyError when `raw` is refused (see urlPolicyRefusal). */
export async function assertUrlAllowed(raw: string | URL, policy: UrlPolicy, lookup: Lookup = systemLookup): Promise<void> {
  const why = await urlPolicyRefusal(raw, policy, lookup);
  if (why) throw new UrlPolicyError(`upstream URL refused: ${why}`);
}

/**
 * The check mcp-proxy makes before each new upstream connection: only what is never legitimate
 * (link-local, metadata, unspecified, multicast), so a name re-pointed after registration (DNS
 * rebinding) cannot reach a metadata service. Loopback and private ranges were decided at
 * registration by the admin portal's policy.
 */
export const CONNECT_TIME_POLICY: UrlPolicy = { allowLoopback: true, allowPrivate: true };
