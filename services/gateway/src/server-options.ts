import type { ListenOptions } from '@mcpgw/http';
import type { GatewayConfig } from './config.js';

/**
 * How the gateway's listener guards the edge (test-matrix X2–X4): slow headers and slow bodies
 * time out, and connections beyond a ceiling are closed on arrival. The keep-alive timeout stays
 * above the 60 s idle timeout of common balancers, so the gateway never closes a connection a
 * balancer is about to reuse.
 */
export function listenOptionsOf(config: GatewayConfig): ListenOptions {
  return {
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_PORT,
    headersTimeoutMs: config.GATEWAY_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: config.GATEWAY_REQUEST_TIMEOUT_MS,
    maxConnections: config.GATEWAY_MAX_CONNECTIONS,
    keepAliveTimeoutMs: 65_000,
  };
}
