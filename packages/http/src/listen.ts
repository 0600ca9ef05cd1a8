import { createServer, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';

/** What a drain did, for the shutdown log line. */
export interface DrainReport {
  /** Milliseconds from the start of the drain until the last connection ended. */
  ms: number;
  /** Requests still running when the deadline cut them off (0 when everything finished). */
  cut: number;
  /** Whether idle keep-alive connections had to be closed by this side (callers kept them longer than idleCloseMs). */
  closedIdle: boolean;
}

export interface DrainOptions {
  /** Hard deadline: connections still open then are closed, with whatever runs on them. */
  graceMs?: number;
  /**
   * Idle keep-alive connections are left for the caller to close (its idle timeout is shorter:
   * the gateway's 3 s, Caddy's 3 s), so a request it is sending on one at that moment is not lost.
   * After this long they are closed here.
   */
  idleCloseMs?: number;
}

export interface ListeningServer {
  server: Server;
  port: number;
  url: string;
  /** True once drain() began. */
  readonly draining: boolean;
  /** Stops accepting, waits for in-flight requests up to `graceMs`, then closes the rest (tests, simple tools). */
  close(graceMs?: number): Promise<void>;
  /**
   * The graceful stop of a service (SIGTERM in a rolling restart):
   * 1. stop accepting connections: a caller's new connection is refused, which a balancer (Caddy,
   *    the gateway) retries on another instance, since nothing was sent;
   * 2. go on serving requests that arrive on connections already open, each answered with
   *    `Connection: close`, so the caller's keep-alive connections end one by one after a response
   *    rather than under a request being sent;
   * 3. wait for every connection to end; idle ones are closed after `idleCloseMs`, everything after
   *    `graceMs`.
   */
  drain(options?: DrainOptions): Promise<DrainReport>;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Time allowed to receive a request's headers (slowloris guard). */
  headersTimeoutMs?: number;
  /** Time allowed to receive a whole request. */
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export function listen(handler: RequestListener, options: ListenOptions): Promise<ListeningServer> {
  let draining = false;
  /** Responses not finished yet, to answer them with Connection: close once draining. */
  const running = new Set<ServerResponse>();
  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
    },
    (req, res) => {
      running.add(res);
      res.once('close', () => running.delete(res));
      closeWhileDraining(res);
      handler(req, res);
    },
  );

  /**
   * Once draining, a response's head says `Connection: close`, even when the handler set
   * `Connection: keep-alive` itself (the MCP SDK does on its SSE responses), so the caller does not
   * send another request on the connection.
   */
  function closeWhileDraining(res: ServerResponse): void {
    if (draining) res.setHeader('connection', 'close');
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
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['writeHead'];
  }

  async function drain(drainOptions: DrainOptions = {}): Promise<DrainReport> {
    const graceMs = drainOptions.graceMs ?? 10_000;
    const idleCloseMs = Math.min(drainOptions.idleCloseMs ?? 4_000, graceMs);
    const started = performance.now();
    draining = true;
    for (const res of running) if (!res.headersSent) res.setHeader('connection', 'close');
    let closedIdle = false;
    let cut = 0;
    await new Promise<void>((done) => {
      // net.Server's close stops accepting and calls back when the last connection has ended.
      // http.Server's own close() would also close idle keep-alive connections at once, racing
      // requests the caller is sending on them right now.
      NetServer.prototype.close.call(server, () => done());
      const idle = setTimeout(() => {
        closedIdle = true;
        server.closeIdleConnections();
      }, idleCloseMs);
      const deadline = setTimeout(() => {
        cut = running.size;
        server.closeAllConnections();
      }, graceMs);
      idle.unref();
      deadline.unref();
      server.once('close', () => {
        clearTimeout(idle);
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
