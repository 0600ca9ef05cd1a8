import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { JSON_RPC } from '@mcpgw/http';

type Json = Record<string, unknown>;

function parsedText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** One content block as mcpo renders it: text (parsed when it is JSON), media as a data URI, a resource by its contents. */
function renderBlock(block: Json): unknown {
  switch (block.type) {
    case 'text':
      return parsedText(String(block.text ?? ''));
    case 'image':
    case 'audio':
      return `data:${String(block.mimeType)};base64,${String(block.data)}`;
    case 'resource': {
      const resource = (block.resource ?? {}) as Json;
      return typeof resource.text === 'string' ? parsedText(resource.text) : resource;
    }
    default:
      return block;
  }
}

/**
 * A tool result as the OpenAPI operation's JSON body (mcpo's mapping): structuredContent when the
 * tool gave it, else the content blocks rendered, a single one unwrapped.
 */
export function renderToolResult(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const blocks = (result.content ?? []).map((b) => renderBlock(b as Json));
  return blocks.length === 1 ? blocks[0] : blocks;
}

/** The message of a result with isError: its text blocks joined. */
export function errorText(result: CallToolResult): string {
  const texts = (result.content ?? []).filter((b) => b.type === 'text').map((b) => (b as { text: string }).text);
  return texts.join('\n') || 'The tool reported an error';
}

/** An MCP error as mcpo answers it: the JSON-RPC code mapped to an HTTP status, `{"detail": {"message"}}`. */
export function httpStatusOf(err: McpError): number {
  if (err.code === ErrorCode.InvalidParams && err.message.includes('Unknown tool:')) return 404;
  switch (err.code) {
    case ErrorCode.ParseError:
    case ErrorCode.InvalidRequest:
      return 400;
    case ErrorCode.MethodNotFound:
      return 404;
    case ErrorCode.InvalidParams:
      return 422;
    case JSON_RPC.UPSTREAM_UNAVAILABLE:
      return err.message.includes('(timed out)') ? 504 : 502;
    default:
      return 500;
  }
}

/** McpError puts `MCP error <code>: ` before the message; the HTTP body gets the message alone. */
export function plainMessage(err: McpError): string {
  return err.message.replace(/^MCP error -?\d+: /, '');
}
