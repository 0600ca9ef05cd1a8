import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Caller, Relay, Scope } from './caller.js';
import type { ToolCall, ToolService } from './tool.service.js';

export const SEARCH_TOOLS = 'search_tools';
export const CALL_TOOL = 'call_tool';
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 50;

/** The two tools META_TOOLS_MODE offers instead of the whole catalog. */
export const META_TOOLS: readonly Tool[] = [
  {
    name: SEARCH_TOOLS,
    title: 'Search tools',
    description:
      'Finds tools you may use by words in their name or description. Returns each match with its name, description and input schema; call one with call_tool.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', description: 'Words to look for; every word must match. Empty: the first tools.' },
        limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `Most results (default ${DEFAULT_LIMIT}).` },
      },
    },
  },
  {
    name: CALL_TOOL,
    title: 'Call a tool',
    description: 'Calls a tool found with search_tools, by its exact name, with arguments matching its input schema.',
    inputSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'The tool name search_tools returned.' },
        arguments: { type: 'object', description: "The tool's arguments.", additionalProperties: true },
      },
      required: ['name'],
    },
  },
];

function search(tools: readonly Tool[], query: string, limit: number): Tool[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const text = (t: Tool) => `${t.name} ${t.title ?? ''} ${t.description ?? ''}`.toLowerCase();
  return tools.filter((t) => words.every((w) => text(t).includes(w))).slice(0, limit);
}

function invalid(message: string): McpError {
  return new McpError(ErrorCode.InvalidParams, message);
}

/**
 * META_TOOLS_MODE: a tool service that lists only search_tools and call_tool. Both work on the
 * caller's catalog as the real service builds it (the same policy: what search_tools cannot find
 * call_tool cannot call); calling a real tool by its name directly keeps working.
 */
export function withMetaTools(inner: ToolService): ToolService {
  return {
    mayOpen: (serverId, caller) => inner.mayOpen(serverId, caller),

    async listTools() {
      return { tools: META_TOOLS.map((t) => ({ ...t })) };
    },

    async callTool(scope: Scope, caller: Caller, call: ToolCall, relay: Relay = {}): Promise<CallToolResult> {
      const args = call.arguments ?? {};
      if (call.name === SEARCH_TOOLS) {
        const query = args.query ?? '';
        const limit = args.limit ?? DEFAULT_LIMIT;
        if (typeof query !== 'string') throw invalid('search_tools: query must be a string');
        if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) throw invalid('search_tools: limit must be a positive integer');
        const { tools } = await inner.listTools(scope, caller, relay);
        const found = search(tools, query, Math.min(limit, MAX_LIMIT)).map((t) => ({
          name: t.name,
          ...(t.description === undefined ? {} : { description: t.description }),
          inputSchema: t.inputSchema,
        }));
        return { content: [{ type: 'text', text: JSON.stringify(found) }], structuredContent: { tools: found } };
      }
      if (call.name === CALL_TOOL) {
        if (typeof args.name !== 'string' || args.name === '') throw invalid('call_tool: name must be a tool name');
        if (args.arguments !== undefined && (typeof args.arguments !== 'object' || args.arguments === null || Array.isArray(args.arguments))) {
          throw invalid('call_tool: arguments must be an object');
        }
        return inner.callTool(scope, caller, { name: args.name, arguments: args.arguments as Record<string, unknown> | undefined }, relay);
      }
      return inner.callTool(scope, caller, call, relay);
    },
  };
}
