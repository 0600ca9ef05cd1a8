import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import {
  WebStandardStreamableHTTPServerTransport,
  type WebStandardStreamableHTTPServerTransportOptions,
} from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { SessionInitialize } from './session-directory.js';

export type McpRequest = IncomingMessage & { auth?: AuthInfo };

/** Where the replayed messages say they came from; never reached over the network. */
const REPLAY_URL = 'http://mcp-proxy.internal/mcp';
const REPLAY_REQUEST_ID = 'mcpgw-session-replay';

/**
 * The SDK's Streamable HTTP server transport of one downstream session, with the two things the
 * session layer needs beyond it:
 *
 * - `handle(req, res, body)`: a Node request through the web-standard transport, as the SDK's own
 *   Node wrapper (`StreamableHTTPServerTransport`) does it (`@hono/node-server`'s request listener,
 *   without replacing the global Response);
 * - `replayInitialize(init)`: makes a fresh transport, and the MCP server connected to it, the
 *   session another replica opened. The transport only accepts requests of the session id its
 *   generator produced once an `initialize` has gone through it, and the SDK `Server` learns the
 *   caller's capabilities and client info only from that `initialize` (it checks them before it
 *   sends sampling, elicitation or roots requests). So the stored `initialize` (with the version
 *   negotiated the first time, which negotiates to itself) and `notifications/initialized` are
 *   handed to the transport as the caller once sent them, and the answer is discarded. This uses
 *   only the transport's public API, unlike setting its private `_initialized` flag.
 */
export class SessionTransport extends WebStandardStreamableHTTPServerTransport {
  constructor(options: WebStandardStreamableHTTPServerTransportOptions) {
    super(options);
  }

  /** Handles one HTTP request of the session (POST, GET or DELETE), body already parsed. */
  async handle(req: McpRequest, res: ServerResponse, parsedBody: unknown): Promise<void> {
    const authInfo = req.auth;
    const listener = getRequestListener((request) => this.handleRequest(request, { authInfo, parsedBody }), { overrideGlobalObjects: false });
    await listener(req, res);
  }

  /** See the class comment. Throws when the transport refuses the replay. */
  async replayInitialize(init: SessionInitialize): Promise<void> {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const initialize = { jsonrpc: '2.0' as const, id: REPLAY_REQUEST_ID, method: 'initialize', params: init };
    const answer = await this.handleRequest(new Request(REPLAY_URL, { method: 'POST', headers }), { parsedBody: initialize });
    const text = await answer.text();
    if (answer.status !== 200 || !text.includes('"result"')) throw new Error(`session replay refused (${answer.status}): ${text.slice(0, 200)}`);
    const sessionHeaders = { ...headers, 'mcp-session-id': this.sessionId ?? '', 'mcp-protocol-version': init.protocolVersion };
    const initialized = { jsonrpc: '2.0' as const, method: 'notifications/initialized' };
    const done = await this.handleRequest(new Request(REPLAY_URL, { method: 'POST', headers: sessionHeaders }), { parsedBody: initialized });
    await done.body?.cancel();
    if (done.status !== 202) throw new Error(`session replay refused (${done.status})`);
  }
}
