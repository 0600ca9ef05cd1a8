import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface HttpClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

/** The two objects an express app puts under every request and response (app.request, app.response). */
export interface ExpressPrototypes {
  request: object;
  response: object;
}

export function isExpressApp(handler: unknown): handler is ExpressPrototypes {
  const h = handler as Partial<ExpressPrototypes> | null;
  return typeof handler === 'function' && typeof h?.request === 'object' && typeof h.response === 'object';
}

/**
 * Request and response classes whose instances are born with express's prototypes
 * (`app.request`, `app.response`), for the server to build every request from.
 *
 * Express gives a plain Node request its helpers (req.path, res.json …) by changing the object's
 * prototype, on every request. V8 then treats each request and response as an object of a shape of
 * its own, and every property access in Node's HTTP code that touches them turns slow: on the
 * gateway's proxying step, 165–210 µs of CPU per request instead of 80–100 µs. Built from these
 * classes, a request already has the prototype express would give it (setting the same prototype
 * again changes nothing), and every request has the same shape.
 */
export function expressHttpClasses(app: ExpressPrototypes): HttpClasses {
  // Node's own IncomingMessage and ServerResponse are plain constructor functions.
  function ExpressRequest(this: IncomingMessage, socket: Socket) {
    (IncomingMessage as unknown as (this: IncomingMessage, socket: Socket) => void).call(this, socket);
  }
  ExpressRequest.prototype = app.request;
  function ExpressResponse(this: ServerResponse, req: IncomingMessage, options?: unknown) {
    (ServerResponse as unknown as (this: ServerResponse, req: IncomingMessage, options?: unknown) => void).call(this, req, options);
  }
  ExpressResponse.prototype = app.response;
  return { IncomingMessage: ExpressRequest as unknown as typeof IncomingMessage, ServerResponse: ExpressResponse as unknown as typeof ServerResponse };
}
