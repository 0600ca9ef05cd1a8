import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@mcpgw/logger';
import { registerDemoTools } from './tools.js';

export interface DemoServerApp {
  app: express.Express;
  /** Closes every open MCP session. */
  close(): Promise<void>;
  sessionCount(): number;
}

const SESSION_HEADER = 'mcp-session-id';

/**
 * A stateful Streamable HTTP MCP server at /mcp, built with the official SDK the usual way: one
 * McpServer and transport per session.
 */
export function createDemoServerApp(logger: Logger): DemoServerApp {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const app = express();
  app.use(express.json({ limit: '1mb' }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', sessions: sessions.size });
  });

  app.post('/mcp', async (req: Request, res: Response) => {
    const id = req.header(SESSION_HEADER);
    let transport = id ? sessions.get(id) : undefined;
    if (!transport) {
      if (id || !isInitializeRequest(req.body)) {
        res.status(id ? 404 : 400).json({
          jsonrpc: '2.0',
          id: null,
          error: { code: id ? -32001 : -32000, message: id ? 'Session not found' : 'No session: send initialize first' },
        });
        return;
      }
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => {
          sessions.set(sid, created);
        },
      });
      created.onclose = () => {
        if (created.sessionId) sessions.delete(created.sessionId);
      };
      const server = new McpServer({ name: 'mcpgw-demo', version: '0.1.0' });
      registerDemoTools(server);
      await server.connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, req.body);
  });

  const bySession = async (req: Request, res: Response) => {
    const id = req.header(SESSION_HEADER);
    const transport = id ? sessions.get(id) : undefined;
    if (!transport) {
      res.status(id ? 404 : 400).json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Unknown or missing session' } });
      return;
    }
    await transport.handleRequest(req, res);
  };
  app.get('/mcp', bySession);
  app.delete('/mcp', bySession);

  app.use((err: Error, _req: Request, res: Response, _next: express.NextFunction) => {
    logger.error('demo server request failed', { err: err.message });
    if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Internal error' } });
  });

  return {
    app,
    sessionCount: () => sessions.size,
    async close() {
      await Promise.all([...sessions.values()].map((t) => t.close()));
      sessions.clear();
    },
  };
}
