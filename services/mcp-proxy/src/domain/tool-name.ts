/**
 * The names of tools on the aggregated endpoint (/mcp): `${serverId}__${tool}`. This pair is the
 * only place that builds or reads them. Server ids match SERVER_ID (no `__`), so splitting at the
 * first `__` is unambiguous even when the tool's own name contains `__`.
 */
export const SERVER_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;
const SEPARATOR = '__';

export interface ToolName {
  serverId: string;
  tool: string;
}

export function createToolName(serverId: string, tool: string): string {
  if (!SERVER_ID.test(serverId)) throw new Error(`invalid server id: ${serverId}`);
  return `${serverId}${SEPARATOR}${tool}`;
}

/** The server id and tool of an aggregated name; null when the name is not one. */
export function parseToolName(name: string): ToolName | null {
  const at = name.indexOf(SEPARATOR);
  if (at <= 0) return null;
  const serverId = name.slice(0, at);
  const tool = name.slice(at + SEPARATOR.length);
  if (!SERVER_ID.test(serverId) || tool === '') return null;
  return { serverId, tool };
}
