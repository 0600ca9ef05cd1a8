import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ProgressCallback, RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { AnySchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { ProgressNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

export interface ProgressRouter {
  /** Installs the progress handler on a new client (before it connects). */
  install(client: Client): void;
  /** client.request, with progress for this request routed to `onprogress`. */
  request<S extends AnySchema>(
    client: Client,
    message: { method: string; params?: Record<string, unknown> },
    schema: S,
    options: RequestOptions & { onprogress?: ProgressCallback },
  ): Promise<SchemaOutput<S>>;
}

/**
 * Progress routed by mcp-proxy's own token rather than the SDK's: the SDK client drops a progress
 * notification that arrives in the same read as its response (stdio, legacy SSE), because it
 * forgets the request's progress handler before notification handlers run. A route here lives
 * until the request has returned, so the last progress report reaches the caller before the result.
 */
export function createProgressRouter(): ProgressRouter {
  const routes = new WeakMap<Client, Map<string, ProgressCallback>>();
  let seq = 0;
  return {
    install(client) {
      const mine = new Map<string, ProgressCallback>();
      routes.set(client, mine);
      client.setNotificationHandler(ProgressNotificationSchema, (notification) => {
        const { progressToken, ...progress } = notification.params;
        mine.get(String(progressToken))?.(progress);
      });
    },
    async request(client, message, schema, { onprogress, ...options }) {
      const mine = routes.get(client);
      if (!onprogress || !mine) return client.request(message, schema, options);
      const token = `mcpgw-${(seq += 1)}`;
      mine.set(token, onprogress);
      const meta = { ...(message.params?._meta as Record<string, unknown> | undefined), progressToken: token };
      try {
        return await client.request({ ...message, params: { ...message.params, _meta: meta } }, schema, options);
      } finally {
        mine.delete(token);
      }
    },
  };
}
