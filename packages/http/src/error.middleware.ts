import type { NextFunction, Request, Response } from 'express';
import { HEADER } from '@mcpgw/identity';
import type { Logger } from '@mcpgw/logger';
import { AppError } from './errors.js';
import { sendProblem } from './problem.js';
import { jsonRpcError } from './json-rpc.js';
import type { SecurityEventRecorder } from './security-event.recorder.js';

/** How a route's callers want errors: RFC 9457 JSON (REST), JSON-RPC (MCP) or an HTML page (UI). */
export type ErrorFormat = 'problem' | 'json-rpc' | 'html';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number };
  // body-parser / raw-body errors carry a status and a type.
  if (e?.type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'Request body is too large', { cause: err });
  if (e?.type === 'entity.parse.failed') return new AppError('BAD_REQUEST', 'Request body is not valid JSON', { cause: err });
  // @mcpgw/db tags a database that cannot be reached: the service is unavailable, not broken.
  if (e?.type === 'database.unavailable')
    return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; try again shortly', { cause: err, headers: { [HEADER.retryAfter]: '5' } });
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported')
    return new AppError('BAD_REQUEST', 'Unsupported request encoding', { cause: err });
  return new AppError('INTERNAL', 'Internal error', { cause: err });
}

export interface HandleErrorsOptions {
  /**
   * When given, bodies refused as too large (`oversize-body`) and unparsable JSON on JSON-RPC
   * paths (`malformed-json-rpc`) are kept as security events.
   */
  security?: Pick<SecurityEventRecorder, 'record'>;
}

function recordBodyProblem(security: Pick<SecurityEventRecorder, 'record'>, error: AppError, cause: unknown, req: Request, format: ErrorFormat): void {
  const type = (cause as { type?: unknown } | null)?.type;
  const kind =
    error.code === 'PAYLOAD_TOO_LARGE' ? 'oversize-body' : type === 'entity.parse.failed' && format === 'json-rpc' ? 'malformed-json-rpc' : null;
  if (!kind) return;
  security.record({
    kind,
    reason: error.message,
    userId: req.identity?.userId ?? null,
    userEmail: req.identity?.email ?? null,
    clientIp: req.ip ?? req.socket?.remoteAddress ?? null,
    requestId: req.requestId,
    details: { method: req.method, path: req.path, contentLength: req.headers['content-length'] ?? null },
  });
}

/**
 * The one error middleware of an app. `formatFor` picks the caller's format from the request, so
 * an MCP path answers JSON-RPC, the REST API problem details and pages a readable page.
 */
export function handleErrors(logger: Logger, formatFor: (req: Request) => ErrorFormat, options: HandleErrorsOptions = {}) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const error = toAppError(err);
    const requestId = req.requestId ?? 'unknown';
    if (options.security) recordBodyProblem(options.security, error, err, req, formatFor(req));
    if (error.status >= 500) {
      logger.error('request failed', { requestId, code: error.code, path: req.path, err: error.cause ?? error });
    } else {
      logger.info('request refused', { requestId, code: error.code, status: error.status, path: req.path, detail: error.message });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const format = formatFor(req);
    if (format === 'json-rpc') {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      const message = error.code === 'INTERNAL' ? 'Internal error' : error.message;
      res.status(error.status).json(jsonRpcError(error.code, message, { requestId }));
    } else if (format === 'html') {
      for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
      const detail = error.code === 'INTERNAL' ? 'Internal error' : error.message;
      res
        .status(error.status)
        .type('html')
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${error.status} · mcpgw</title></head>` +
            `<body><main><h1>${error.status}</h1><p>${escapeHtml(detail)}</p>` +
            `<p><small>Request id: ${escapeHtml(requestId)}</small></p></main></body></html>`,
        );
    } else {
      sendProblem(res, error, requestId);
    }
  };
}
