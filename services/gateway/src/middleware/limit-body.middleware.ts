import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@mcpgw/http';

/**
 * Refuses a declared body over `maxBytes` with 413 before reading it. (Chunked bodies are bounded
 * by the service that parses them.)
 */
export function limitBody(maxBytes: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      req.socket.once('drain', () => undefined);
      next(new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${maxBytes} bytes`, { headers: { connection: 'close' } }));
      return;
    }
    next();
  };
}
