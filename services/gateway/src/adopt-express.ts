import { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request, Response } from 'express';

export interface HttpClasses {
  IncomingMessage: typeof IncomingMessage;
  ServerResponse: typeof ServerResponse;
}

/**
 * Request and response classes whose prototypes carry express's helpers (req.path, req.ip,
 * res.status().json() …) of `app`, for the server to build every request from.
 *
 * Express gives a plain Node request its helpers by changing the object's prototype, on every
 * request. V8 then treats each request and response as an object of a shape of its own, and every
 * property access in Node's HTTP code that touches them turns slow: measured on the gateway's
 * proxied path, 165–210 µs of CPU per request instead of 80–100 µs. With these classes the
 * prototype is set once, here, and every request has the same shape.
 */
export function expressHttpClasses(app: Express): HttpClasses {
  class GatewayRequest extends IncomingMessage {}
  class GatewayResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {}
  Object.setPrototypeOf(GatewayRequest.prototype, app.request);
  Object.setPrototypeOf(GatewayResponse.prototype, app.response);
  return { IncomingMessage: GatewayRequest, ServerResponse: GatewayResponse };
}

/**
 * What express's app.handle and router do to a request before the first middleware: links the
 * two, gives them express's prototypes if the server did not build them from `classes` (a test
 * server, say), and sets originalUrl and baseUrl.
 */
export function adoptExpress(app: Express, classes: HttpClasses, req: IncomingMessage, res: ServerResponse): Request {
  const request = req as Request;
  const response = res as Response;
  if (!(req instanceof classes.IncomingMessage)) Object.setPrototypeOf(request, app.request);
  if (!(res instanceof classes.ServerResponse)) Object.setPrototypeOf(response, app.response);
  request.res = response;
  response.req = request;
  response.locals ??= Object.create(null) as Record<string, unknown>;
  request.originalUrl ||= request.url;
  request.baseUrl ||= '';
  return request;
}
