import type { Request } from 'express';
import { HEADER } from '@mcpgw/identity';

/** The cookie Open WebUI keeps its session JWT in. */
export const OPENWEBUI_SESSION_COOKIE = 'token';

/**
 * A caller's credential, told apart by its shape only (nothing is verified here):
 *  - `api-key`: an mcpgw_ key (Authorization: Bearer or X-API-Key)
 *  - `openwebui-key`: an Open WebUI API key (sk-…)
 *  - `jwt`: three base64url segments, from Authorization: Bearer or Open WebUI's `token` cookie
 */
export type Credential =
  | { kind: 'none' }
  | { kind: 'in-url' }
  | { kind: 'malformed' }
  | { kind: 'api-key'; value: string }
  | { kind: 'openwebui-key'; value: string }
  | { kind: 'jwt'; value: string; from: 'header' | 'cookie' };

const URL_CREDENTIALS = /[?&](api_key|apikey|access_token|token|key|client_secret)=/i;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN_LENGTH = 16_384;

/** The value of one cookie, or undefined (several cookies of that name: refused as ambiguous). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const values = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part.startsWith(`${name}=`))
    .map((part) => part.slice(name.length + 1));
  return values.length === 1 ? values[0] : undefined;
}

/** The cookie header without the named cookies (undefined when nothing is left). */
export function withoutCookies(header: string | undefined, names: readonly string[]): string | undefined {
  if (!header) return undefined;
  const kept = header
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !names.some((n) => part.startsWith(`${n}=`)));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

function classify(token: string, from: 'header' | 'cookie'): Credential {
  if (token.length > MAX_TOKEN_LENGTH) return { kind: 'malformed' };
  if (token.startsWith('mcpgw_')) return from === 'header' ? { kind: 'api-key', value: token } : { kind: 'malformed' };
  if (token.startsWith('sk-')) return { kind: 'openwebui-key', value: token };
  if (JWT_SHAPE.test(token)) return { kind: 'jwt', value: token, from };
  return { kind: 'malformed' };
}

/**
 * Finds the caller's credential: `X-API-Key`, else `Authorization: Bearer …`, else Open WebUI's
 * `token` cookie (not on cross-site browser requests: no CSRF through the cookie). Credentials in
 * the query string are refused outright (they end up in logs).
 */
export function readCredential(req: Request): Credential {
  if (URL_CREDENTIALS.test(req.originalUrl)) return { kind: 'in-url' };
  const apiKey = req.headers[HEADER.apiKey];
  if (typeof apiKey === 'string' && apiKey !== '') {
    const value = apiKey.trim();
    return value.startsWith('sk-') ? { kind: 'openwebui-key', value } : { kind: 'api-key', value };
  }
  const auth = req.headers[HEADER.authorization];
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? classify(match[1]!, 'header') : { kind: 'malformed' };
  }
  // A cookie rides along on requests other sites make a browser send: it counts only on requests
  // the browser marks as the site's own (or that no browser made).
  const site = req.headers[HEADER.secFetchSite];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return { kind: 'none' };
  const cookie = readCookie(req.headers[HEADER.cookie], OPENWEBUI_SESSION_COOKIE);
  if (cookie !== undefined && cookie !== '') {
    try {
      return classify(decodeURIComponent(cookie), 'cookie');
    } catch {
      return { kind: 'malformed' };
    }
  }
  return { kind: 'none' };
}
