/**
 * MCP authorization discovery (RFC 9728 protected resource metadata, RFC 8414 authorization server
 * metadata) for the gateway's MCP endpoints.
 */
export interface DiscoveryOptions {
  /** The gateway's external URL (scheme://host[:port]). */
  publicUrl: string;
  /** Entra v2 issuers of the accepted tenants, listed first (the interactive sign-in for people). */
  entraIssuers: readonly string[];
  /** Whether the gateway issues tokens itself (MASTER_KEYS set): then it is an authorization server too. */
  issuesTokens: boolean;
  /** Scopes clients should request from Entra (e.g. api://mcpgw/.default); may be empty. */
  scopes: readonly string[];
}

const SERVER_PATH = /^\/mcp(\/[a-z0-9][a-z0-9-]{0,47})?$/;

/** The MCP endpoint a request path belongs to (`/mcp` or `/mcp/{server}`), or null for other paths. */
export function mcpResourcePath(path: string): string | null {
  if (path !== '/mcp' && !path.startsWith('/mcp/')) return null;
  const [, first, second] = path.split('/');
  const resource = second ? `/${first}/${second}` : `/${first}`;
  return SERVER_PATH.test(resource) ? resource : null;
}

export function createDiscovery(options: DiscoveryOptions) {
  const authorizationServers = [...options.entraIssuers, ...(options.issuesTokens ? [options.publicUrl] : [])];
  return {
    /** Where a client finds the metadata of an MCP endpoint (sent in every 401 on it). */
    resourceMetadataUrl(resourcePath: string): string {
      return `${options.publicUrl}/.well-known/oauth-protected-resource${resourcePath}`;
    },

    /** RFC 9728 metadata of the gateway (resourcePath '') or of one MCP endpoint. */
    protectedResource(resourcePath: string) {
      return {
        resource: `${options.publicUrl}${resourcePath}`,
        authorization_servers: authorizationServers,
        bearer_methods_supported: ['header'],
        ...(options.scopes.length > 0 ? { scopes_supported: [...options.scopes] } : {}),
        resource_name: 'mcpgw',
        ...(options.issuesTokens ? { jwks_uri: `${options.publicUrl}/.well-known/jwks.json` } : {}),
      };
    },

    /** RFC 8414 metadata of the gateway's own token endpoint (client credentials only). */
    authorizationServer() {
      return {
        issuer: options.publicUrl,
        token_endpoint: `${options.publicUrl}/oauth/token`,
        jwks_uri: `${options.publicUrl}/.well-known/jwks.json`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        response_types_supported: [],
        scopes_supported: [],
      };
    },
  };
}
export type Discovery = ReturnType<typeof createDiscovery>;
