import type { Response, Router } from 'express';
import { AppError } from '@mcpgw/http';
import { HEADER } from '@mcpgw/identity';
import { mcpResourcePath, type Discovery } from '../domain/auth/discovery.js';
import type { SigningKeyStore } from '../domain/auth/signing-key.store.js';

const PRM = '/.well-known/oauth-protected-resource';

function sendMetadata(res: Response, body: unknown, maxAgeSec: number): void {
  // Public, credential-free documents: any origin may read them (browser-based MCP clients).
  res.setHeader(HEADER.accessControlAllowOrigin, '*');
  res.setHeader(HEADER.cacheControl, `public, max-age=${maxAgeSec}`);
  res.json(body);
}

/**
 * MCP authorization discovery: protected resource metadata (RFC 9728) for the gateway and for each
 * MCP endpoint (path-inserted: /.well-known/oauth-protected-resource/mcp/{server}), authorization
 * server metadata (RFC 8414) of the gateway's token endpoint, and its JWKS.
 */
export function registerWellKnownRoutes(router: Router, deps: { discovery: Discovery; keys: Pick<SigningKeyStore, 'jwks' | 'canSign'> }): void {
  router.get(PRM, (_req, res) => sendMetadata(res, deps.discovery.protectedResource(''), 3600));
  router.get([`${PRM}/mcp`, `${PRM}/mcp/:server`], (req, res) => {
    const resource = req.path.slice(PRM.length);
    if (mcpResourcePath(resource) !== resource) throw new AppError('NOT_FOUND', 'No such MCP endpoint');
    sendMetadata(res, deps.discovery.protectedResource(resource), 3600);
  });
  router.get('/.well-known/oauth-authorization-server', (_req, res) => {
    if (!deps.keys.canSign) throw new AppError('NOT_FOUND', 'The gateway issues no tokens (MASTER_KEYS is not set)');
    sendMetadata(res, deps.discovery.authorizationServer(), 3600);
  });
  router.get('/.well-known/jwks.json', async (_req, res) => {
    sendMetadata(res, await deps.keys.jwks(), 300);
  });
}
