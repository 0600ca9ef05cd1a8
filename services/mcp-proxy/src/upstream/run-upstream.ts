import { SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Server } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { RetryBudget } from './retry-budget.js';
import { scrubJson, scrubSecrets } from './scrub.js';
import { UpstreamJsonRpcError, UpstreamResponseTooLargeError, UpstreamUnavailableError } from './upstream.errors.js';

const MCP_ERROR_PREFIX = /^MCP error -?\d+: /;

type Failure = 'transport' | 'transport-not-sent' | 'refused' | 'timeout' | 'too-large' | 'invalid-response' | 'other';

/** What kind of failure an SDK client error is; upstream JSON-RPC errors are 'other' (passed on). */
export function classify(err: unknown): Failure {
  if (err instanceof McpError) {
    if (err.code === ErrorCode.RequestTimeout) return 'timeout';
    if (err.code === ErrorCode.ConnectionClosed) return 'transport';
    return 'other';
  }
  // 404: the upstream no longer knows our session (it restarted); the request was not processed.
  // 5xx: the server (or its own proxy) answered that it cannot serve now; the session stands.
  if (err instanceof StreamableHTTPError) return err.code === 404 ? 'transport-not-sent' : (err.code ?? 0) >= 500 ? 'refused' : 'transport';
  if (err instanceof SseError) return 'transport';
  if (err instanceof UpstreamResponseTooLargeError) return 'too-large';
  // A body that is not JSON, or JSON that is not JSON-RPC.
  if (err instanceof SyntaxError || (err instanceof Error && err.name === 'ZodError')) return 'invalid-response';
  const code = (err as { code?: unknown; cause?: { code?: unknown } } | null)?.cause?.code ?? (err as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EACCES') return 'transport-not-sent';
  if (err instanceof TypeError) return 'transport';
  // The SDK's transports say this when the connection (SSE stream, stdio process) is already gone.
  if (err instanceof Error && err.message === 'Not connected') return 'transport-not-sent';
  return 'other';
}

function timeoutAfter(ms: number): { promise: Promise<never>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new McpError(ErrorCode.RequestTimeout, 'Request timed out')), ms);
  });
  promise.catch(() => undefined);
  return { promise, cancel: () => clearTimeout(timer) };
}

export interface RunEntry {
  secrets: readonly string[];
  connection: Promise<unknown>;
}

export interface RunOptions<E extends RunEntry, T> {
  server: Server;
  breaker: CircuitBreaker;
  /** The target's retry budget: every retry, whatever its reason, spends from it. */
  retries: RetryBudget;
  logger: Logger;
  request: {
    timeoutMs: number;
    requestId: string;
    signal?: AbortSignal;
    idempotent: boolean;
    what: string;
    probe?: boolean;
    /** Answered from the connection without a request upstream (describe): earns no retry. */
    local?: boolean;
  };
  /** The connection to use (made on demand), within the remaining budget. */
  acquire(timeoutMs: number): Promise<E>;
  /** Forgets a connection that failed at the transport level. */
  drop(entry: E): void;
  op(entry: E, timeoutMs: number): Promise<T>;
}

/**
 * One upstream request within one budget, connecting included: a breaker that is open fails it at
 * once; an upstream's own JSON-RPC error is passed on as it came (minus the tenant's key); a
 * transport failure drops the connection and is retried once when the request is idempotent or
 * surely never reached the upstream (connection refused, session unknown), and the target's retry
 * budget allows. An HTTP 5xx answer (503 overloaded) keeps the connection and is retried likewise
 * when idempotent. Every outcome but a 5xx tells the breaker how the target is doing.
 */
export async function runUpstream<E extends RunEntry, T>(o: RunOptions<E, T>): Promise<T> {
  const { server, breaker, request, logger } = o;
  const deadline = Date.now() + request.timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  if (!request.probe && !breaker.allow()) {
    throw new UpstreamUnavailableError(server.id, 'circuit-open', `failing fast after ${breaker.failures()} failures in a row`);
  }
  if (!request.probe && !request.local) o.retries.deposit();
  let verdict = false;
  const fail = (err: UpstreamUnavailableError): UpstreamUnavailableError => {
    verdict = true;
    breaker.failure();
    return err;
  };
  try {
    for (let attempt = 1; ; attempt += 1) {
      const entry = await o.acquire(remaining());
      const scrub = (err: unknown) => scrubSecrets(err instanceof Error ? err.message : String(err), entry.secrets);
      const budget = timeoutAfter(remaining());
      try {
        await Promise.race([entry.connection, budget.promise]);
      } catch (err) {
        if (classify(err) === 'timeout') throw fail(new UpstreamUnavailableError(server.id, 'timeout', `no connection within ${request.timeoutMs} ms`));
        throw fail(new UpstreamUnavailableError(server.id, 'unreachable', `could not connect: ${scrub(err)}`));
      } finally {
        budget.cancel();
      }
      try {
        const result = await o.op(entry, remaining());
        verdict = true;
        breaker.success();
        return result;
      } catch (err) {
        if (request.signal?.aborted) throw new McpError(ErrorCode.ConnectionClosed, 'Request cancelled');
        const failure = classify(err);
        if (failure === 'timeout') throw fail(new UpstreamUnavailableError(server.id, 'timeout', `no answer within ${request.timeoutMs} ms`));
        if (failure === 'too-large' || failure === 'invalid-response') {
          // The server is alive; what it sent cannot be passed on. The connection stays.
          verdict = true;
          breaker.success();
          logger.warn('upstream response refused', { requestId: request.requestId, serverId: server.id, what: request.what, failure, err: scrub(err) });
          throw new UpstreamUnavailableError(server.id, failure, scrub(err));
        }
        if (failure === 'other') {
          // The upstream answered: it is alive, whatever it said.
          verdict = true;
          breaker.success();
          // Its own JSON-RPC error goes back to the caller with its code, message and data, minus
          // our tenant's key. (The SDK client put `MCP error <code>: ` before the upstream's message.)
          if (err instanceof McpError) {
            throw new UpstreamJsonRpcError(err.code, scrub(err).replace(MCP_ERROR_PREFIX, ''), scrubJson(err.data, entry.secrets));
          }
          throw new Error(scrub(err));
        }
        if (failure === 'refused') {
          // The server is reachable and answered at once: a breaker would save callers no waiting,
          // and opening it on a server refusing half its requests would refuse the other half too.
          // So the breaker is not told (a trial in flight is abandoned, below), and the session stays.
          const retry = attempt === 1 && request.idempotent && o.retries.withdraw();
          logger.info('upstream refused the request', { requestId: request.requestId, serverId: server.id, what: request.what, err: scrub(err), retry });
          if (!retry) throw new UpstreamUnavailableError(server.id, 'refused', scrub(err));
          continue;
        }
        o.drop(entry);
        const retry = attempt === 1 && (request.idempotent || failure === 'transport-not-sent') && o.retries.withdraw();
        logger.info('upstream connection failed', { requestId: request.requestId, serverId: server.id, what: request.what, err: scrub(err), retry });
        if (!retry) throw fail(new UpstreamUnavailableError(server.id, 'unreachable', scrub(err)));
      }
    }
  } finally {
    if (!verdict) breaker.abandon();
  }
}
