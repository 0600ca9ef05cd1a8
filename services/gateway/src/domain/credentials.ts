import type { Request } from 'express';
import { HEADER } from '@mcpgw/identity';

export type Credential = { kind: 'api-key'; value: string } | { kind: 'bearer'; value: string } | { kind: 'none' } | { kind: 'in-url' };

const URL_CREDENTIALS = /[?&](api_key|apikey|access_token|token|key)=/i;

/**
 * Finds the caller's credential: `Authorization: Bearer …` or `X-API-Key`. Credentials in the
 * query string are refused outright (they end up in logs and browser history).
 */
export function readCredential(req: Request): Credential {
  if (URL_CREDENTIALS.test(req.originalUrl)) return { kind: 'in-url' };
  const apiKey = req.headers[HEADER.apiKey];
  if (typeof apiKey === 'string' && apiKey !== '') return { kind: 'api-key', value: apiKey.trim() };
  const auth = req.headers[HEADER.authorization];
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (match) {
      const token = match[1]!;
      return token.startsWith('mcpgw_') ? { kind: 'api-key', value: token } : { kind: 'bearer', value: token };
    }
    return { kind: 'bearer', value: '' };
  }
  return { kind: 'none' };
}
