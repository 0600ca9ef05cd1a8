import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { registerBenchTools } from './bench-tools.js';

/** The bench tools over stdio (official SDK): the server both mcp-proxy and npm's mcp-proxy run. */
const server = new McpServer({ name: 'mcpgw-bench-stdio', version: '1.0.0' }, { capabilities: { logging: {} } });
registerBenchTools(server);
await server.connect(new StdioServerTransport());
