import { randomUUID } from 'node:crypto';
import { encodeIdentityHeaders, signIdentity, type Identity } from '@mcpgw/identity';

/** An identity as the gateway would resolve it; override what a test cares about. */
export function testIdentity(overrides: Partial<Identity> = {}): Identity {
  return {
    userId: randomUUID(),
    email: `${randomUUID().slice(0, 8)}@example.test`,
    name: 'Test User',
    groups: [],
    admin: false,
    tenant: null,
    authMethod: 'apikey',
    allowServers: null,
    blockServers: [],
    ...overrides,
  };
}

/** The headers the gateway would add to this request: what a service behind it expects. */
export function gatewayHeaders(secret: string, method: string, path: string, identity: Identity, nowMs = Date.now()): Record<string, string> {
  return signIdentity(secret, method, path, encodeIdentityHeaders(identity, randomUUID()), nowMs);
}
