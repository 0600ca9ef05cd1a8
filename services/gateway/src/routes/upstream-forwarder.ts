import { createHash } from 'node:crypto';
import { Agent, request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@mcpgw/http';
import { HEADER, INTERNAL_RESPONSE_HEADERS } from '@mcpgw/identity';
import '../middleware/mcp-facts.middleware.js';
import { discardRestOfBody } from '../middleware/limit-body.middleware.js';
import type { Logger } from '@mcpgw/logger';

/**
 * How long a free keep-alive connection to an instance is kept. Shorter than the time an instance
 * waits, when it drains, for its callers to close idle connections (packages/http listen.ts,
 * 4 s): the gateway closes them itself, so none is closed under a request being sent.
 */
export const UPSTREAM_IDLE_MS = 3_000;

/** How long an instance that refused a connection (or said it is draining) is passed over; each refusal or marked answer renews it. */
const DOWN_MS = 2_000;

/** Hop-by-hop headers (RFC 9110 §7.6.1) and framing headers Node sets itself: never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'content-length']);

interface Instance {
  url: URL;
  /** How this gateway (and every other one with the same list) names the instance: HEADER.mcpgwInstance. */
  tag: string;
  downUntil: number;
}

/** The instance tag of a base URL: 8 hex characters of its SHA-256, the same in every gateway. */
export function instanceTag(url: string): string {
  return createHash('sha256').update(new URL(url).href).digest('hex').slice(0, 8);
}

/** The tag in front of a session id opened through a gateway (`{tag}.{random}`), if any. */
function tagOfSession(sessionId: string): string | undefined {
  const dot = sessionId.indexOf('.');
  return dot > 0 ? sessionId.slice(0, dot) : undefined;
}

export interface ForwarderOptions {
  /** The upstream's name, for logs and errors. */
  name: string;
  /** Its instances' base URLs (one or more). */
  urls: readonly string[];
  /** Largest request body forwarded; larger ones are refused with 413. */
  maxBodyBytes: number;
  logger: Logger;
}

export interface Forwarder {
  handle(req: Request, res: Response, next: NextFunction): void;
  /**
   * Ends the long-lived GET streams (SSE) going through this process, and from now on every new
   * one at once, so their callers reconnect through another gateway (graceful stop).
   */
  endStreams(): number;
  close(): void;
}

/** The instance for a session: the highest hash of (session id, instance) among the candidates (rendezvous hashing). */
export function instanceForSession<T extends { url: URL }>(sessionId: string, candidates: readonly T[]): T | undefined {
  let best: T | undefined;
  let bestScore = -1;
  for (const candidate of candidates) {
    const score = createHash('sha256').update(`${sessionId}\n${candidate.url.href}`).digest().readUInt32BE(0);
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

function forwardedHeaders(req: Request, body: Buffer, instance: Instance): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  const inbound = req.headers;
  const listed = inbound.connection ? inbound.connection.split(',').map((h) => h.trim().toLowerCase()) : [];
  for (const name in inbound) {
    const value = inbound[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name.startsWith('x-mcpgw-') || (listed.length > 0 && listed.includes(name))) continue;
    headers[name] = value;
  }
  if (body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method)) headers['content-length'] = body.length;
  headers[HEADER.mcpgwInstance] = instance.tag;
  const append = (name: string, value: string) => {
    const before = req.headers[name];
    headers[name] = before ? `${String(before)},${value}` : value;
  };
  append('x-forwarded-for', req.socket.remoteAddress ?? '');
  append('x-forwarded-proto', (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
  if (req.headers.host) append('x-forwarded-host', req.headers.host);
  return headers;
}

const INTERNAL = new Set<string>(INTERNAL_RESPONSE_HEADERS);
const fact = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 128 ? v : null);

/**
 * Copies the upstream's response headers but hop-by-hop ones and mcpgw's internal x-mcpgw-* ones,
 * which callers never see; from mcp-proxy (`factsFrom`), those say what the request was about
 * (MCP method, server, tool) and become `req.mcpFacts` for the analytics row.
 */
function copyResponseHeaders(from: IncomingHttpHeaders, req: Request, res: Response, factsFrom: boolean): void {
  const listed = from.connection ? from.connection.split(',').map((h) => h.trim().toLowerCase()) : [];
  if (factsFrom) req.mcpFacts = { mcpMethod: fact(from[HEADER.mcpgwMcpMethod]), serverId: fact(from[HEADER.mcpgwServer]), tool: fact(from[HEADER.mcpgwTool]) };
  for (const name in from) {
    const value = from[name];
    if (value === undefined || INTERNAL.has(name) || (HOP_BY_HOP.has(name) && name !== 'content-length') || (listed.length > 0 && listed.includes(name))) continue;
    res.setHeader(name, value);
  }
}

/**
 * The gateway's way to mcp-proxy and the admin portal: one or more instances, with
 *
 * - **affinity**: every request carries the instance's tag (`x-mcpgw-instance`), which mcp-proxy
 *   puts in front of the ids of sessions it opens; requests naming a session go to the instance of
 *   its tag while it is up, else to the same choice in every gateway (rendezvous hashing), so a
 *   session's server→client requests and cancellations meet the instance running it, without
 *   state in the gateway; other requests go round robin;
 * - **failover without duplicates**: a request is sent to another instance only when it surely
 *   never ran: the connection was refused or failed before it was made, or the instance answered
 *   503 with `x-mcpgw-draining` (refused before anything ran, during a rolling restart). Any
 *   answer marked `x-mcpgw-draining` (a stopping instance) makes it pass that instance over. A request
 *   that reached an instance and then lost its connection is not repeated (a tools/call may have
 *   run), except GET and HEAD, which change nothing. An instance that refused is passed over for
 *   2 s. After every instance was tried, one more round follows a 20 ms pause (with one URL, a
 *   Kubernetes Service, the next connection may reach another pod);
 * - the request body read first (at most `maxBodyBytes`; MCP messages are small), so it can be sent
 *   again; responses (SSE included) stream through as they come.
 */
export function createUpstreamForwarder(options: ForwarderOptions): Forwarder {
  const { logger, name } = options;
  const instances: Instance[] = options.urls.map((u) => ({ url: new URL(u), tag: instanceTag(u), downUntil: 0 }));
  const agent = new Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, timeout: UPSTREAM_IDLE_MS });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64, timeout: UPSTREAM_IDLE_MS });
  // Every instance once, then one more round after a short pause (with one URL behind a Service,
  // the next connection reaches another pod): when everything is down the caller still has its
  // 502 within a few tens of milliseconds (test-matrix R10).
  const maxAttempts = instances.length + 1;
  const PAUSE_MS = 20;
  let turn = 0;
  const streams = new Set<Response>();
  let draining = false;

  function pick(sessionId: string | undefined, tried: ReadonlySet<Instance>): Instance | undefined {
    const now = Date.now();
    const untried = instances.filter((i) => !tried.has(i));
    const pool = untried.length > 0 ? untried : instances;
    const up = pool.filter((i) => i.downUntil <= now);
    const candidates = up.length > 0 ? up : pool;
    if (sessionId) {
      // The instance that opened the session while it is up, else the same choice in every gateway.
      const tag = tagOfSession(sessionId);
      return candidates.find((i) => i.tag === tag) ?? instanceForSession(sessionId, candidates);
    }
    turn = (turn + 1) % 1_000_000;
    return candidates[turn % candidates.length];
  }

  function readBody(req: Request): Promise<Buffer | 'too-large' | 'aborted'> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const settle = (value: Buffer | 'too-large' | 'aborted') => {
        if (settled) return;
        settled = true;
        resolve(value);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBodyBytes) {
          req.pause();
          req.off('data', onData);
          chunks.length = 0;
          settle('too-large');
          return;
        }
        chunks.push(chunk);
      };
      req.on('data', onData);
      req.once('end', () => settle(Buffer.concat(chunks)));
      req.once('error', () => settle('aborted'));
      req.once('close', () => settle(req.complete ? Buffer.concat(chunks) : 'aborted'));
    });
  }

  function attempt(req: Request, res: Response, next: NextFunction, body: Buffer, tried: Set<Instance>, sessionId: string | undefined, attemptNo = 1): void {
    const instance = pick(sessionId, tried);
    if (!instance) {
      next(new AppError('UPSTREAM_UNAVAILABLE', `${name} is unavailable`));
      return;
    }
    tried.add(instance);
    const { url } = instance;
    const secure = url.protocol === 'https:';
    let connected = false;
    let answered = false;
    const proxyReq: ClientRequest = (secure ? httpsRequest : request)({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      method: req.method,
      path: `${url.pathname.replace(/\/$/, '')}${req.originalUrl}`,
      headers: forwardedHeaders(req, body, instance),
      agent: secure ? httpsAgent : agent,
    });
    const onClientGone = () => {
      if (!res.writableFinished) proxyReq.destroy();
    };
    res.once('close', onClientGone);

    const retry = (why: string) => {
      res.off('close', onClientGone);
      instance.downUntil = Date.now() + DOWN_MS;
      const canRetry = attemptNo < maxAttempts && !res.headersSent && !res.destroyed;
      logger.info(`${name} instance unavailable${canRetry ? ': trying another' : ''}`, { requestId: req.requestId, instance: url.host, why, attempt: attemptNo });
      if (!canRetry) {
        next(new AppError('UPSTREAM_UNAVAILABLE', `${name} is unavailable`));
        return;
      }
      const again = () => attempt(req, res, next, body, tried, sessionId, attemptNo + 1);
      if (tried.size >= instances.length) setTimeout(again, PAUSE_MS).unref();
      else again();
    };

    proxyReq.once('socket', (socket) => {
      if (proxyReq.reusedSocket || !socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });

    proxyReq.once('response', (upstreamRes: IncomingMessage) => {
      answered = true;
      if (upstreamRes.headers[HEADER.mcpgwDraining] !== undefined) {
        // The instance is stopping: choose others from now on. A 503 so marked was refused before
        // anything ran; any other answer is a real one.
        instance.downUntil = Date.now() + DOWN_MS;
        if (upstreamRes.statusCode === 503) {
          upstreamRes.resume();
          retry('draining');
          return;
        }
      }
      copyResponseHeaders(upstreamRes.headers, req, res, name === 'mcp-proxy');
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage);
      if (req.method === 'GET' && String(upstreamRes.headers['content-type'] ?? '').startsWith('text/event-stream')) {
        if (draining) {
          // This gateway is stopping: the caller reconnects, and then reaches another one.
          upstreamRes.destroy();
          res.end();
          return;
        }
        streams.add(res);
        res.once('close', () => streams.delete(res));
      }
      upstreamRes.once('error', () => res.destroy());
      upstreamRes.once('aborted', () => res.destroy());
      upstreamRes.pipe(res);
    });

    proxyReq.once('error', (err: NodeJS.ErrnoException) => {
      if (answered) {
        res.destroy();
        return;
      }
      if (res.destroyed || res.writableEnded) return;
      const neverSent = !connected;
      const harmless = req.method === 'GET' || req.method === 'HEAD';
      if (neverSent || (harmless && proxyReq.reusedSocket)) {
        retry(err.code ?? err.message);
        return;
      }
      res.off('close', onClientGone);
      logger.warn(`${name} connection lost during a request; not repeated`, { requestId: req.requestId, instance: url.host, err: err.message });
      next(new AppError('UPSTREAM_UNAVAILABLE', `${name} is unavailable`, { cause: err }));
    });

    proxyReq.end(body);
  }

  return {
    handle(req, res, next) {
      void readBody(req).then((body) => {
        if (body === 'aborted') return;
        if (body === 'too-large') {
          discardRestOfBody(req);
          next(new AppError('PAYLOAD_TOO_LARGE', `Request body is larger than ${options.maxBodyBytes} bytes`, { headers: { connection: 'close' } }));
          return;
        }
        const session = req.headers[HEADER.mcpSessionId];
        attempt(req, res, next, body, new Set(), typeof session === 'string' ? session : undefined);
      });
    },
    endStreams() {
      draining = true;
      const open = [...streams];
      for (const res of open) res.end();
      return open.length;
    },
    close() {
      agent.destroy();
      httpsAgent.destroy();
    },
  };
}
