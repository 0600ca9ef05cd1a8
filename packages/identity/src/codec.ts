import { HEADER } from './headers.js';
import { AUTH_METHODS, type AuthMethod, type Identity } from './identity.js';

/** Header values are visible ASCII; free text (names, group names) is percent-encoded. */
/** A lone UTF-16 surrogate cannot be percent-encoded (URIError): it goes as U+FFFD, like UTF-8 would store it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const enc = (v: string) => encodeURIComponent(v.replace(LONE_SURROGATE, '\uFFFD'));
const dec = (v: string) => decodeURIComponent(v);
const encList = (items: readonly string[]) => items.map(enc).join(',');
const decList = (v: string) => (v === '' ? [] : v.split(',').map(dec));

/** Identity → header values (without the gateway's validation, timestamp and signature headers). */
export function encodeIdentityHeaders(identity: Identity, requestId: string): Record<string, string> {
  const headers: Record<string, string> = {
    [HEADER.userId]: enc(identity.userId),
    [HEADER.userEmail]: enc(identity.email),
    [HEADER.userName]: enc(identity.name),
    [HEADER.userGroups]: encList(identity.groups),
    [HEADER.userAdmin]: identity.admin ? 'true' : 'false',
    [HEADER.userTenant]: identity.tenant === null ? '' : enc(identity.tenant),
    [HEADER.authMethod]: identity.authMethod,
    [HEADER.requestId]: requestId,
    [HEADER.gatewayValidated]: 'true',
  };
  if (identity.allowServers !== null) headers[HEADER.userAllowServers] = encList(identity.allowServers);
  if (identity.blockServers.length > 0) headers[HEADER.userBlockServers] = encList(identity.blockServers);
  return headers;
}

type HeaderBag = Record<string, string | string[] | undefined>;

function single(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? undefined : v;
}

/** Header values → identity; null when a required header is missing, repeated or malformed. */
export function decodeIdentityHeaders(headers: HeaderBag): Identity | null {
  try {
    const userId = single(headers, HEADER.userId);
    const authMethod = single(headers, HEADER.authMethod);
    const admin = single(headers, HEADER.userAdmin);
    if (!userId || !authMethod || (admin !== 'true' && admin !== 'false')) return null;
    if (!(AUTH_METHODS as readonly string[]).includes(authMethod)) return null;
    const allow = single(headers, HEADER.userAllowServers);
    const tenant = single(headers, HEADER.userTenant) ?? '';
    return {
      userId: dec(userId),
      email: dec(single(headers, HEADER.userEmail) ?? ''),
      name: dec(single(headers, HEADER.userName) ?? ''),
      groups: decList(single(headers, HEADER.userGroups) ?? ''),
      admin: admin === 'true',
      tenant: tenant === '' ? null : dec(tenant),
      authMethod: authMethod as AuthMethod,
      allowServers: allow === undefined ? null : decList(allow),
      blockServers: decList(single(headers, HEADER.userBlockServers) ?? ''),
    };
  } catch {
    return null; // malformed percent-encoding
  }
}
