import type { Keyring } from '@mcpgw/crypto';
import type { Server, TenantRepo } from '@mcpgw/db';
import type { Logger } from '@mcpgw/logger';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { connectUpstream, REQUEST_GRACE_MS } from './upstream-connection.js';
import { resolveUpstreamTarget } from './upstream-target.js';

export type ProbeResult =
  | { ok: true; transport: string; tools: Pick<Tool, 'name' | 'description' | 'inputSchema'>[]; latencyMs: number }
  | { ok: false; error: string; latencyMs: number };

/**
 * Connects to one upstream server once, with the same rules mcp-proxy uses for a caller of
 * `tenantId` (tenant endpoint, tenant key, transport fallback), lists its tools (all pages) and
 * disconnects. For the admin portal's "test connection" and live tool lists. The error text has the
 * target's secrets scrubbed out.
 */
export async function probeUpstream(
  server: Server,
  tenantId: string | null,
  deps: { tenants: Pick<TenantRepo, 'findKey' | 'findEndpoint'>; keyring: Pick<Keyring, 'decrypt'>; logger: Logger; timeoutMs?: number },
): Promise<ProbeResult> {
  const started = Date.now();
  let secrets: readonly string[] = [];
  const scrub = (text: string) => secrets.reduce((t, s) => (s ? t.split(s).join('***') : t), text);
  try {
    const target = await resolveUpstreamTarget(server, tenantId, deps);
    secrets = target.secrets;
    const connection = await connectUpstream({
      serverId: server.id,
      target,
      clientInfo: { name: 'mcpgw-admin-portal', version: '0.1.0' },
      capabilities: {},
      timeoutMs: Math.min(server.connectTimeoutMs, deps.timeoutMs ?? 10_000),
      maxResponseBytes: 4 * 1024 * 1024,
      maxRequestMs: (deps.timeoutMs ?? 10_000) + REQUEST_GRACE_MS,
      logger: deps.logger,
      configure: () => {},
      onClose: () => {},
    });
    try {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await connection.client.listTools(cursor ? { cursor } : {}, { timeout: deps.timeoutMs ?? 10_000 });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor && tools.length < 5000);
      return {
        ok: true,
        transport: connection.transport,
        tools: tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: t.inputSchema })),
        latencyMs: Date.now() - started,
      };
    } finally {
      await connection.close().catch(() => {});
    }
  } catch (err) {
    return { ok: false, error: scrub(err instanceof Error ? err.message : String(err)), latencyMs: Date.now() - started };
  }
}
