import express, { type Request, type Response, type Router } from 'express';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { AppError, identityOf, JSON_RPC } from '@mcpgw/http';
import type { Logger } from '@mcpgw/logger';
import type { Caller } from '../domain/caller.js';
import type { ServerAccess } from '../domain/server-access.js';
import type { ToolService } from '../domain/tool.service.js';
import { buildOpenApiDocument } from '../openapi/openapi-document.js';
import { errorText, httpStatusOf, plainMessage, renderToolResult } from '../openapi/openapi-result.js';
import type { HealthMonitor } from '../upstream/health-monitor.js';

export interface ServerRouteDeps {
  access: Pick<ServerAccess, 'subjectOf' | 'usable' | 'usableAll'>;
  tools: ToolService;
  health: Pick<HealthMonitor, 'healthOf'>;
  logger: Logger;
}

const callerOf = (req: Request): Caller => ({ identity: identityOf(req), requestId: req.requestId });
const basePath = (serverId: string) => `/servers/${serverId}`;

/** An upstream failure while building a document: the REST error of the failure. */
function asAppError(err: unknown): unknown {
  if (!(err instanceof McpError)) return err;
  if (err.code === JSON_RPC.UPSTREAM_UNAVAILABLE) return new AppError(err.message.includes('(timed out)') ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', plainMessage(err));
  return new AppError('UPSTREAM_UNAVAILABLE', plainMessage(err));
}

/**
 * The OpenAPI tool server for Open WebUI (mcpo-compatible), every answer for the caller of the
 * request and through the same policy as MCP:
 * - GET /servers: the servers the caller may use, with their health.
 * - GET /servers/{server}/openapi.json: one POST operation per tool the caller may call.
 * - POST /servers/{server}/{tool}: calls the tool with the JSON body as its arguments; the result
 *   as JSON, errors as mcpo sends them (`{"detail": {"message"}}`, isError → 500).
 */
export function registerServerRoutes(router: Router, deps: ServerRouteDeps): void {
  const parseJson = express.json({ limit: '4mb' });

  router.get('/servers', async (req: Request, res: Response) => {
    const caller = callerOf(req);
    const servers = await deps.access.usableAll(await deps.access.subjectOf(caller));
    res.json({
      servers: servers.map((server) => {
        const { lastError, ...health } = deps.health.healthOf(server.id);
        return {
          id: server.id,
          name: server.name,
          description: server.description,
          transport: server.transport,
          mcp: `/mcp/${server.id}`,
          openapi: `${basePath(server.id)}/openapi.json`,
          // The last error may name internal hosts and ports: admins only.
          health: caller.identity.admin ? { ...health, lastError } : health,
        };
      }),
    });
  });

  router.get('/servers/:server/openapi.json', async (req: Request, res: Response) => {
    const caller = callerOf(req);
    const serverId = String(req.params.server);
    const server = await deps.access.usable(await deps.access.subjectOf(caller), serverId);
    if (!server) throw new AppError('NOT_FOUND', 'Unknown server');
    const { tools } = await deps.tools.listTools({ kind: 'server', serverId }, caller).catch((err: unknown) => {
      throw asAppError(err);
    });
    res.json(buildOpenApiDocument(server, tools, basePath(serverId)));
  });

  router.post('/servers/:server/:tool', parseJson, async (req: Request, res: Response) => {
    const caller = callerOf(req);
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      res.status(422).json({ detail: { message: 'The request body must be a JSON object of tool arguments' } });
      return;
    }
    try {
      const result = await deps.tools.callTool(
        { kind: 'server', serverId: String(req.params.server) },
        caller,
        { name: String(req.params.tool), arguments: body as Record<string, unknown> },
      );
      if (result.isError) {
        res.status(500).json({ detail: { message: errorText(result) } });
        return;
      }
      res.json(renderToolResult(result));
    } catch (err) {
      if (!(err instanceof McpError)) throw err;
      res.status(httpStatusOf(err)).json({ detail: { message: plainMessage(err), ...(err.data === undefined ? {} : { data: err.data }) } });
    }
  });
}
