import { z } from 'zod';
import { env, loadConfig } from '@mcpgw/config';

export const demoServerEnv = z.object({
  DEMO_SERVER_HOST: env.host('127.0.0.1').describe('Address the demo MCP server listens on.'),
  DEMO_SERVER_PORT: env.port(8090).describe('Port of the demo MCP server (0 picks a free one).'),
  LOG_LEVEL: env.logLevel().describe('error, warn, info or debug.'),
});

export type DemoServerConfig = z.infer<typeof demoServerEnv>;

export function readConfig(source: Record<string, string | undefined>): DemoServerConfig {
  return loadConfig('demo-server', demoServerEnv, source);
}
