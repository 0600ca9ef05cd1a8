import type { Request } from 'express';

/** The client address: express derives it from X-Forwarded-For only through trusted proxies. */
export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}
