import { initialize, type HeaderSource } from './session-driver.js';

/** The headers every Streamable HTTP POST carries. */
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } as const;
export const PROTOCOL = '2025-06-18';

export const callBody = (name: string, args: Record<string, unknown>) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
export const LIST_BODY = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

/** Opens an MCP session for a load run that reuses it; throws if the server refuses. */
export async function openSession(url: string, headers: HeaderSource): Promise<Record<string, string>> {
  const statuses: string[] = [];
  const id = await initialize(url, headers, (s, text) => statuses.push(`${s}${text && !s.startsWith('2') ? ` ${text.slice(0, 300)}` : ''}`));
  if (!id) throw new Error(`initialize at ${url} failed: ${statuses.join(', ')}`);
  return { 'mcp-session-id': id, 'mcp-protocol-version': PROTOCOL };
}
