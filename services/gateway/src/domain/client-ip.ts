import type { Request } from 'express';

const known = new WeakMap<Request, string>();

/**
 * The client address: express derives it from X-Forwarded-For only through trusted proxies. Worked
 * out once per request (authentication, the limiter and the analytics row all ask).
 */
export function clientIp(req: Request): string {
  let ip = known.get(req);
  if (ip === undefined) {
    ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    known.set(req, ip);
  }
  return ip;
}
