import type { Socket } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import type { AnalyticsEvent } from '@mcpgw/db';
import { clientIp } from '../domain/client-ip.js';

/** Where rows go: the batch writer (never blocks, never throws). */
export interface AnalyticsSink {
  record(event: AnalyticsEvent): void;
}

/** Bytes a socket had read and written when its previous request ended (keep-alive reuse). */
const socketMarks = new WeakMap<Socket, { read: number; written: number }>();

const clip = (v: unknown, max: number): string | null => (typeof v === 'string' && v !== '' ? v.slice(0, max) : null);

/**
 * One analytics row per request, built when the response has finished (or the caller went away:
 * status 499) and handed to the batch writer: nothing here waits on the database. Bytes are those
 * on the wire for this request, headers included (the socket's counters since its previous
 * request), so streamed bodies are counted without reading them.
 */
export function recordRequests(sink: AnalyticsSink) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const ts = new Date();
    const started = performance.now();
    const socket = req.socket;
    const mark = socketMarks.get(socket) ?? { read: 0, written: 0 };
    let done = false;
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      const read = socket.bytesRead;
      const written = socket.bytesWritten;
      socketMarks.set(socket, { read, written });
      const identity = req.identity;
      const facts = req.mcpFacts;
      sink.record({
        ts,
        requestId: req.requestId ?? null,
        userId: identity?.userId ?? null,
        userEmail: identity?.email ?? null,
        tenantId: identity?.tenant ?? null,
        method: req.method,
        endpoint: (req.originalUrl.split('?')[0] ?? '/').slice(0, 512),
        mcpMethod: facts?.mcpMethod ?? null,
        serverId: facts?.serverId ?? null,
        tool: facts?.tool ?? null,
        status: aborted && !res.writableFinished ? 499 : res.statusCode,
        latencyMs: Math.round((performance.now() - started) * 100) / 100,
        bytesIn: Math.max(0, read - mark.read),
        bytesOut: Math.max(0, written - mark.written),
        userAgent: clip(req.headers['user-agent'], 512),
        clientIp: clientIp(req),
      });
    };
    res.once('finish', () => finish(false));
    res.once('close', () => finish(true));
    next();
  };
}
