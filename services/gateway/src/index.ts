export { createGatewayApp } from './app.js';
export { buildGatewayDeps, type GatewayDeps } from './deps.js';
export { gatewayEnv, readConfig, type GatewayConfig } from './config.js';
