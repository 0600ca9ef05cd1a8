export { createMcpProxyApp } from './app.js';
export { createMcpProxyDeps, type McpProxyDeps } from './deps.js';
export { mcpProxyEnv, readConfig, type McpProxyConfig } from './config.js';
export { createToolName, parseToolName } from './domain/tool-name.js';
export { tenantKeyAad } from './upstream/upstream-target.js';
export { INTERNAL_HEADER } from './mcp/internal-headers.js';
export { UNAVAILABLE_META_KEY } from './domain/tool.service.js';
export { probeUpstream, type ProbeResult } from './upstream/upstream-probe.js';
