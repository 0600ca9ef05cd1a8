import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { assertUrlAllowed, CONNECT_TIME_POLICY } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import { scrubSecrets } from './scrub.js';
import type { HttpTarget, StdioTarget, UpstreamTarget } from './upstream-target.js';
import { UpstreamResponseTooLargeError } from './upstream.errors.js';

export type WireTransport = 'streamable-http' | 'sse' | 'stdio';

/** A connected, initialized SDK client to one upstream server. */
export interface UpstreamConnection {
  client: Client;
  /** The transport actually in use (a Streamable HTTP server may have fallen back to legacy SSE). */
  transport: WireTransport;
  /** Ends the upstream session (DELETE for Streamable HTTP, the process for stdio) and the client. */
  close(): Promise<void>;
}

export interface ConnectOptions {
  serverId: string;
  target: UpstreamTarget;
  clientInfo: { name: string; version: string };
  capabilities: ClientCapabilities;
  timeoutMs: number;
  /** Largest response body to a POST that is read (R9: a huge or endless answer must not fill memory). */
  maxResponseBytes: number;
  /**
   * Longest one POST may stay open, in ms (R7). The SDK's request timeout rejects the request but
   * leaves its HTTP request open until the server answers, so a server that never answers would
   * hold a socket per request for minutes; past this the request is aborted and its socket freed.
   * Longer than any budget a request of this connection gets.
   */
  maxRequestMs: number;
  logger: Logger;
  /** Installs request and notification handlers on a new client, before it connects. */
  configure(client: Client): void;
  /** Called once when the connection ends for any reason after it was established. */
  onClose(): void;
}

/** How much longer than its budget a request's HTTP request may stay open (its cancellation, a slow close). */
export const REQUEST_GRACE_MS = 1_000;

/** Statuses after which the 2025 spec has a client retry a Streamable HTTP URL as a legacy SSE endpoint. */
const FALLBACK_STATUSES = new Set([400, 404, 405]);
const STDERR_LINE_LIMIT = 500;
/** What the SDK's Streamable HTTP client reports when its GET stream to the server broke. */
const STREAM_BROKEN = /^(SSE stream disconnected|Failed to reconnect SSE stream|Maximum reconnection attempts)/;

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new McpError(ErrorCode.RequestTimeout, `no connection within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function connectClient(options: ConnectOptions, transport: Transport, deadline: number): Promise<Client> {
  const client = new Client(options.clientInfo, { capabilities: options.capabilities });
  options.configure(client);
  const remaining = Math.max(1, deadline - Date.now());
  try {
    // The SDK's timeout covers initialize only; ours also covers opening the transport (an SSE
    // endpoint that never sends its `endpoint` event, a process that never answers).
    await withTimeout(client.connect(transport, { timeout: remaining }), remaining, () => void client.close().catch(() => undefined));
    return client;
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
}

/**
 * fetch with caps on POSTs (a request, and its JSON answer or the SSE stream of its answer): past
 * `maxBytes` the body errors with UpstreamResponseTooLargeError and reading stops; past `maxMs`
 * the request is aborted. Long-lived GET streams are capped in neither (they carry many messages
 * over hours).
 */
function limitedFetch(maxBytes: number, maxMs: number): FetchLike {
  return async (url, init) => {
    if ((init?.method ?? 'GET').toUpperCase() !== 'POST') return fetch(url, init);
    // A plain controller and timer rather than AbortSignal.timeout/any: those are weakly held and
    // were seen not to fire while nothing else referenced them.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new DOMException(`no answer within ${maxMs} ms`, 'TimeoutError')), maxMs);
    timer.unref();
    const outer = init?.signal;
    const forward = () => abort.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    const done = () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    };
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: abort.signal });
    } catch (err) {
      done();
      throw err;
    }
    if (!response.body) {
      done();
      return response;
    }
    let seen = 0;
    const capped = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) {
            done();
            controller.error(new UpstreamResponseTooLargeError(maxBytes));
          } else controller.enqueue(chunk);
        },
        flush: done,
      }),
    );
    return new Response(capped, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

function sseTransport(target: HttpTarget, options: ConnectOptions): SSEClientTransport {
  return new SSEClientTransport(target.url, { requestInit: { headers: target.headers }, fetch: limitedFetch(options.maxResponseBytes, options.maxRequestMs) });
}

async function connectHttp(options: ConnectOptions, target: HttpTarget, deadline: number): Promise<UpstreamConnection> {
  await assertUrlAllowed(target.url, CONNECT_TIME_POLICY); // SSRF: never link-local/metadata, whatever the name resolves to now
  if (target.transport === 'sse') {
    const client = await connectClient(options, sseTransport(target, options), deadline);
    return { client, transport: 'sse', close: () => client.close() };
  }
  // Only the tenant's credential header: nothing of the downstream request is ever forwarded.
  const streamable = new StreamableHTTPClientTransport(target.url, {
    requestInit: { headers: target.headers },
    fetch: limitedFetch(options.maxResponseBytes, options.maxRequestMs),
  });
  try {
    const client = await connectClient(options, streamable, deadline);
    return {
      client,
      transport: 'streamable-http',
      async close() {
        await streamable.terminateSession().catch(() => undefined);
        await client.close();
      },
    };
  } catch (err) {
    if (!(err instanceof StreamableHTTPError && FALLBACK_STATUSES.has(err.code ?? 0))) throw err;
    // The spec's backwards-compatibility rule: POST initialize refused with 400/404/405, so try a
    // GET on the same URL as a legacy (2024-11-05) SSE endpoint.
    options.logger.info('upstream does not speak Streamable HTTP; trying legacy SSE', { serverId: options.serverId, status: err.code });
    const client = await connectClient(options, sseTransport(target, options), deadline);
    return { client, transport: 'sse', close: () => client.close() };
  }
}

async function connectStdio(options: ConnectOptions, target: StdioTarget, deadline: number): Promise<UpstreamConnection> {
  // env: exactly the server's configured variables and the tenant key; the SDK adds only PATH,
  // HOME, USER, LOGNAME, SHELL and TERM of our own environment, never anything else of it.
  const transport = new StdioClientTransport({ command: target.command, args: target.args, env: target.env, stderr: 'pipe' });
  let buffered = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      options.logger.debug('upstream stderr', { serverId: options.serverId, line: scrubSecrets(line, target.secrets).slice(0, STDERR_LINE_LIMIT) });
    }
  });
  options.logger.info('spawning stdio upstream server', { serverId: options.serverId, command: target.command, args: target.args, envNames: Object.keys(target.env) });
  const client = await connectClient(options, transport, deadline);
  options.logger.debug('stdio upstream server running', { serverId: options.serverId, pid: transport.pid });
  return { client, transport: 'stdio', close: () => client.close() };
}

/** Connects and initializes an SDK client to the target, within `timeoutMs`. */
export async function connectUpstream(options: ConnectOptions): Promise<UpstreamConnection> {
  const deadline = Date.now() + options.timeoutMs;
  const connection = options.target.kind === 'stdio'
    ? await connectStdio(options, options.target, deadline)
    : await connectHttp(options, options.target, deadline);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    options.onClose();
  };
  const { client } = connection;
  const previousOnClose = client.onclose;
  client.onclose = () => {
    previousOnClose?.();
    end();
  };
  const previousOnError = client.onerror;
  client.onerror = (err) => {
    previousOnError?.(err);
    // The server went away under us: a legacy SSE stream broke (it never comes back with our
    // session), or the Streamable HTTP GET stream broke. The connection is replaced on the next
    // request rather than tried with a request the server may never have seen.
    const broken = connection.transport === 'sse' ? err instanceof SseError : STREAM_BROKEN.test(err.message);
    if (broken && !ended) {
      options.logger.info('upstream stream broke; the connection will be made again', { serverId: options.serverId, err: scrubSecrets(err.message, options.target.secrets) });
      end();
      void connection.close().catch(() => undefined);
    }
  };
  return connection;
}
