import { McpError } from '@modelcontextprotocol/sdk/types.js';

/** Why an upstream server could not answer. Never carries credentials. */
export type UpstreamFailure = 'unreachable' | 'refused' | 'timeout' | 'no-url' | 'credential' | 'circuit-open' | 'too-large' | 'invalid-response';

export class UpstreamUnavailableError extends Error {
  readonly serverId: string;
  readonly failure: UpstreamFailure;
  constructor(serverId: string, failure: UpstreamFailure, detail: string) {
    super(`upstream server ${serverId} unavailable (${failure}): ${detail}`);
    this.name = 'UpstreamUnavailableError';
    this.serverId = serverId;
    this.failure = failure;
  }
}

/** An upstream response body grew past UPSTREAM_MAX_RESPONSE_BYTES; reading it was stopped. */
export class UpstreamResponseTooLargeError extends Error {
  constructor(maxBytes: number) {
    super(`upstream response larger than ${maxBytes} bytes`);
    this.name = 'UpstreamResponseTooLargeError';
  }
}

/**
 * An upstream's own JSON-RPC error, to be passed on as it came: `message` is exactly the upstream's
 * (McpError's constructor would put a second `MCP error <code>: ` in front of it).
 */
export class UpstreamJsonRpcError extends McpError {
  constructor(code: number, message: string, data?: unknown) {
    super(code, message, data);
    this.name = 'UpstreamJsonRpcError';
    this.message = message;
  }
}
