import type { NextFunction, Request, Response } from 'express';
import { HEADER } from '@mcpgw/identity';
import { OPENWEBUI_SESSION_COOKIE, withoutCookies } from '../domain/auth/credentials.js';

/**
 * Internal services trust only the signed identity: the caller's own credential (Authorization,
 * X-API-Key, Open WebUI's session cookie) is removed so it can never travel further (no token
 * passthrough).
 */
export function dropCredentials() {
  return (req: Request, _res: Response, next: NextFunction): void => {
    delete req.headers[HEADER.authorization];
    delete req.headers[HEADER.apiKey];
    const cookie = withoutCookies(req.headers[HEADER.cookie], [OPENWEBUI_SESSION_COOKIE]);
    if (cookie === undefined) delete req.headers[HEADER.cookie];
    else req.headers[HEADER.cookie] = cookie;
    next();
  };
}
