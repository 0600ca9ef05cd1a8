import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, Request, Response } from 'express';
import type { HttpClasses } from '@mcpgw/http';

/**
 * What express's app.handle and router do to a request before the first middleware: links the
 * two, gives them express's prototypes if the server did not build them from `classes`
 * (expressHttpClasses: then they have them already), and sets originalUrl and baseUrl.
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
