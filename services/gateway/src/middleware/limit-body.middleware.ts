import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@mcpgw/http';

/** How long the rest of a refused body is read and thrown away before the connection is closed. */
const LINGER_MS = 2_000;

/**
 * After a 413 (sent with `Connection: close`): reads and discards what the caller is still sending,
 * for at most 2 s, then closes. Closing at once, with unread data in the socket, makes the kernel
 * answer with a reset, and a caller still sending its body then sees a broken pipe instead of the
 * 413 (test-matrix X1). Nothing is kept, so memory stays flat.
 */
const discarding = new WeakSet<Request>();

export function discardRestOfBody(req: Request): void {
  if (discarding.has(req)) return;
  discarding.add(req);
  const socket = req.socket;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  // Node ends a `Connection: close` response with destroySoon(): the socket is destroyed as soon as
  // the answer is written. Here it only half-closes (FIN after the answer) and goes on reading,
  // until the caller closes its side or the timer does.
  socket.destroySoon = function (this: typeof socket) {
    this.end();
    this.once('end', () => this.destroy());
  };
  req.resume();
}

/**
 * Refuses a declared body over `maxBytes` with 413 before reading it. (Chunked bodies are bounded
 * by the forwarder, which stops reading at the limit.)
 */
export function limitBody(maxBytes: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) {
      discardRestOfBody(req);
      next(new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${maxBytes} bytes`, { headers: { connection: 'close' } }));
      return;
    }
    next();
  };
}
