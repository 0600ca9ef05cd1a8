import { randomUUID } from 'node:crypto';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { registerBenchTools } from './bench-tools.js';

/**
 * The official SDK's Streamable HTTP server, stateful, built the way its README shows (one
 * McpServer and transport per session) with the bench tools: the "SDK upstream" baseline and the
 * upstream of every full-chain scenario. Usage: sdk-server.ts <port>
 */
const port = Number(process.argv[2] ?? 18081);
const sessions = new Map<string, StreamableHTTPServerTransport>();
const app = express();
app.use(express.json({ limit: '4mb' }));
app.get('/health', (_req, res) => void res.json({ status: 'ok', sessions: sessions.size }));
app.post('/mcp', async (req, res) => {
  const id = req.header('mcp-session-id');
  let transport = id ? sessions.get(id) : undefined;
  if (!transport) {
    if (id || !isInitializeRequest(req.body)) {
      res.status(id ? 404 : 400).json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'No such session' } });
      return;
    }
    const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => void sessions.set(sid, created),
    });
    created.onclose = () => void (created.sessionId && sessions.delete(created.sessionId));
    const server = new McpServer({ name: 'mcpgw-bench', version: '1.0.0' }, { capabilities: { logging: {} } });
    registerBenchTools(server);
    await server.connect(created);
    transport = created;
  }
  await transport.handleRequest(req, res, req.body);
});
const bySession = async (req: express.Request, res: express.Response) => {
  const transport = sessions.get(req.header('mcp-session-id') ?? '');
  if (!transport) return void res.status(404).json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'No such session' } });
  await transport.handleRequest(req, res);
};
app.get('/mcp', bySession);
app.delete('/mcp', bySession);
app.listen(port, '127.0.0.1');
