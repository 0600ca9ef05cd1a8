import type { Response } from 'express';
import type { AppError } from './errors.js';

/** RFC 9457 problem details, plus mcpgw's `code` and `requestId`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  [member: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problemBody(error: AppError, requestId: string): Problem {
  const internal = error.status >= 500 && error.code === 'INTERNAL';
  return {
    ...error.extra,
    type: `https://mcpgw.dev/problems/${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    detail: internal ? 'Internal error' : error.message,
    code: error.code,
    requestId,
  };
}

export function sendProblem(res: Response, error: AppError, requestId: string): void {
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  res.status(error.status).type('application/problem+json').send(JSON.stringify(problemBody(error, requestId)));
}
