import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Runs a fixed list of middleware in order, the way express would, without express's router: no
 * path matching per layer, no per-layer bookkeeping. The gateway's proxied paths (/mcp, /servers,
 * /mcp-admin), nearly all of its traffic, go through one such list; everything else through
 * express. A step that calls next(err), throws, or returns a rejected promise hands the error to
 * `onError` and ends the list.
 *
 * The request and response must already have express's prototypes (see `adoptExpress`), since
 * steps and the error handler use express's helpers (req.path, res.status().json()).
 */
export function runPipeline(steps: readonly RequestHandler[], onError: ErrorRequestHandler, req: Request, res: Response): void {
  let index = 0;
  let failed = false;
  const fail = (err: unknown) => {
    if (failed) return;
    failed = true;
    onError(err, req, res, () => undefined);
  };
  const next: NextFunction = (err?: unknown) => {
    if (err !== undefined && err !== null && err !== 'route' && err !== 'router') {
      fail(err);
      return;
    }
    const step = steps[index++];
    if (!step) return;
    try {
      const result = step(req, res, next) as unknown;
      if (result instanceof Promise) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  };
  next();
}
