import { readConfigOrExit } from '@mcpgw/config';
import { createLogger } from '@mcpgw/logger';
import { listen } from '@mcpgw/http';
import { readConfig } from './config.js';
import { createDemoServerApp } from './app.js';

const config = readConfigOrExit(() => readConfig(process.env));
const logger = createLogger({ service: 'demo-server', level: config.LOG_LEVEL });
const demo = createDemoServerApp(logger);
const server = await listen(demo.app, { host: config.DEMO_SERVER_HOST, port: config.DEMO_SERVER_PORT });
logger.info('demo MCP server listening', { url: `${server.url}/mcp` });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await demo.close();
    await server.close(5_000);
    process.exit(0);
  });
}
