import { createServer, type Server, type ServerResponse } from 'node:http';
import { expressHttpClasses, isExpressApp, type HttpClasses } from './express-http-classes.js';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import type { RequestListener } from 'node:http';
import { HEADER } from '@mcpgw/identity';

/** What a drain did, for the shutdown log line. */
export interface DrainReport {
  /** Milliseconds from the start of the drain until the last connection ended. */
  ms: number;
  /** Requests still running when the deadline cut them off (0 when everything finished). */
  cut: number;
  /** Whether idle keep-alive connections had to be closed by this side (a client kept them longer than idleCloseMs). */
  closedIdle: boolean;
}

export interface DrainOptions {
  /** Hard deadline: connections still open then are closed, with whatever runs on them. */
  graceMs?: number;
  /**
   * How long the listener stays open after the drain began, every response saying the instance
   * is going (see the steps on `drain`), so balancers stop sending it new connections before it
   * stops accepting them: connections a balancer opened that this process has not yet accepted
   * are reset by the kernel when the listener closes, after the request may have been sent, so a
   * balancer cannot tell them from a request that ran.
   */
  announceMs?: number;
  /**
   * Also mark every response with `x-mcpgw-draining: 1` during the drain (mcp-proxy, admin
   * portal: the gateway then stops choosing this instance at once). Not for the gateway itself,
   * whose callers read its health endpoint instead.
   */
  markResponses?: boolean;
  /**
   * Idle keep-alive connections are left for the caller to close: mcpgw's callers close theirs
   * sooner (the gateway after 3 s idle, Caddy after 2 s), so a request one of them is sending on
   * a connection at that moment is never lost. A connection idle for longer than this belongs to
   * some other client (a metrics scraper, a probe that keeps connections) and is closed here.
   */
  idleCloseMs?: number;
}

export interface ListeningServer {
  server: Server;
  port: number;
  url: string;
  /** True once drain() began. */
  readonly draining: boolean;
  /** Connections closed on arrival because `maxConnections` were open. */
  readonly droppedConnections: number;
  /** Stops accepting, waits for in-flight requests up to `graceMs`, then closes the rest (tests, simple tools). */
  close(graceMs?: number): Promise<void>;
  /**
   * The graceful stop of a service (SIGTERM in a rolling restart):
   * 1. go on serving everything, each response with `Connection: close` (so callers' keep-alive
   *    connections end one by one after a response rather than under a request being sent) and,
   *    with `markResponses`, `x-mcpgw-draining`; for `announceMs` (1 s) balancers learn that the
   *    instance is going (from these responses, or its health endpoint) and stop choosing it;
   * 2. stop accepting connections: a new connection is refused, which a balancer (Caddy, the
   *    gateway) retries on another instance, since nothing was sent;
   * 3. wait for every connection to end; connections idle for longer than `idleCloseMs` (5 s)
   *    are closed, everything after `graceMs` (10 s, counted from the start).
   */
  drain(options?: DrainOptions): Promise<DrainReport>;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Time allowed to receive a request's headers (slowloris guard); default 10 s (Node's: 60 s). */
  headersTimeoutMs?: number;
  /**
   * Time allowed to receive a whole request, body included (slow-body guard); default 30 s (Node's:
   * 300 s). It ends when the request has arrived, so responses (SSE streams) may last longer.
   */
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  /**
   * Open connections accepted at once; a connection beyond it is closed as soon as it is accepted
   * (connection-flood guard). Default 10,000. Keep it below the process's file-descriptor limit
   * (`ulimit -n`) less what the service needs for its own outbound sockets.
   */
  maxConnections?: number;
  /**
   * The classes the server makes requests and responses from (Node's `IncomingMessage` and
   * `ServerResponse` options). Default: for an express app, classes born with its prototypes, so
   * a request never changes prototype on its way through (express-http-classes.ts); else Node's.
   */
  httpClasses?: HttpClasses;
}

/**
 * Node checks the two timeouts above only every `connectionsCheckingInterval` (30 s by default), so
 * a slow-header socket would live up to headersTimeout + 30 s. A check every second (or a quarter
 * of a shorter timeout) costs one walk over the open connections.
 */
function checkingIntervalFor(headersTimeoutMs: number, requestTimeoutMs: number): number {
  return Math.max(50, Math.min(1_000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs || Infinity) / 4)));
}

export function listen(handler: RequestListener, options: ListenOptions): Promise<ListeningServer> {
  let draining = false;
  /** Responses not finished yet, to answer them with Connection: close once draining. */
  const running = new Set<ServerResponse>();
  /** Per connection: requests running on it, and since when it has had none. */
  const connections = new Map<Socket, { active: number; idleSince: number; spoke: boolean }>();
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  // Node refuses a requestTimeout shorter than headersTimeout (0 turns it off).
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const server = createServer(
    {
      headersTimeout: requestTimeout > 0 ? Math.min(headersTimeout, requestTimeout) : headersTimeout,
      requestTimeout,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
      connectionsCheckingInterval: checkingIntervalFor(headersTimeout, requestTimeout),
      ...(options.httpClasses ?? (isExpressApp(handler) ? expressHttpClasses(handler) : {})),
    },
    (req, res) => {
      running.add(res);
      const conn = connections.get(req.socket);
      if (conn) {
        conn.active += 1;
        // The first request arrived: from now on Node's own timers govern the connection.
        if (!conn.spoke) req.socket.setTimeout(0);
        conn.spoke = true;
      }
      res.once('close', () => {
        running.delete(res);
        if (conn) {
          conn.active -= 1;
          conn.idleSince = performance.now();
        }
      });
      closeWhileDraining(res);
      handler(req, res);
    },
  );
  server.maxConnections = options.maxConnections ?? 10_000;
  let dropped = 0;
  server.on('drop', () => (dropped += 1));
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { active: 0, idleSince: performance.now(), spoke: false });
    socket.once('close', () => connections.delete(socket));
    // Node's headersTimeout starts with the first byte: a connection that never sends one would
    // stay open for good (a free slowloris). Until its first request, an inactive connection is
    // closed after the headers timeout (the server has no 'timeout' listener, so Node destroys it).
    socket.setTimeout(headersTimeout);
  });

  /**
   * Once draining, a response's head says `Connection: close`, even when the handler set
   * `Connection: keep-alive` itself (the MCP SDK does on its SSE responses), so the caller does not
   * send another request on the connection.
   */
  let markResponses = false;
  function closeWhileDraining(res: ServerResponse): void {
    if (draining) res.setHeader('connection', 'close');
    if (draining && markResponses) res.setHeader(HEADER.mcpgwDraining, '1');
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (draining) {
        for (const headers of args.slice(1)) {
          if (Array.isArray(headers)) {
            for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === 'connection') headers[i + 1] = 'close';
          } else if (headers && typeof headers === 'object') {
            for (const name of Object.keys(headers)) if (name.toLowerCase() === 'connection') delete (headers as Record<string, unknown>)[name];
          }
        }
        this.setHeader('connection', 'close');
        if (markResponses) this.setHeader(HEADER.mcpgwDraining, '1');
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['writeHead'];
  }

  async function drain(drainOptions: DrainOptions = {}): Promise<DrainReport> {
    const graceMs = drainOptions.graceMs ?? 10_000;
    const idleCloseMs = drainOptions.idleCloseMs ?? 5_000;
    const announceMs = Math.min(drainOptions.announceMs ?? 1_000, graceMs);
    const started = performance.now();
    markResponses = drainOptions.markResponses ?? false;
    draining = true;
    for (const res of running) {
      if (res.headersSent) continue;
      res.setHeader('connection', 'close');
      if (markResponses) res.setHeader(HEADER.mcpgwDraining, '1');
    }
    let closedIdle = false;
    let cut = 0;
    await new Promise((r) => setTimeout(r, announceMs));
    await new Promise<void>((done) => {
      // net.Server's close stops accepting and calls back when the last connection has ended.
      // http.Server's own close() would also close idle keep-alive connections at once, racing
      // requests the caller is sending on them right now.
      NetServer.prototype.close.call(server, () => done());
      const idle = setInterval(() => {
        const now = performance.now();
        for (const [socket, conn] of connections) {
          if (conn.active === 0 && now - conn.idleSince > idleCloseMs) {
            closedIdle = true;
            socket.destroy();
          }
        }
      }, 250);
      const deadline = setTimeout(
        () => {
          cut = running.size;
          server.closeAllConnections();
          for (const socket of connections.keys()) socket.destroy();
        },
        Math.max(graceMs - announceMs, 0),
      );
      idle.unref();
      deadline.unref();
      server.once('close', () => {
        clearInterval(idle);
        clearTimeout(deadline);
      });
    });
    // Clears http.Server's connection-checking interval (the listener is already closed).
    server.close();
    return { ms: Math.round(performance.now() - started), cut, closedIdle };
  }

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
      resolve({
        server,
        port,
        url: `http://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port}`,
        get draining() {
          return draining;
        },
        get droppedConnections() {
          return dropped;
        },
        drain,
        close: (graceMs = 10_000) =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => server.closeAllConnections(), graceMs);
            timer.unref();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
            server.closeIdleConnections();
          }),
      });
    });
  });
}
