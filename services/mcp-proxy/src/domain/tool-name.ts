import { createHash } from 'node:crypto';

/**
 * The names of tools and prompts on the aggregated endpoint (/mcp). This pair is the only place
 * that builds or reads them.
 *
 * - Plain form `${serverId}__${name}` when that is at most 64 (or MCP_TOOL_NAME_MAX_LENGTH)
 *   characters of `[A-Za-z0-9_-]`: the limit LLM function-calling APIs put on tool names, which
 *   clients such as Open WebUI hand on after putting their own prefix in front.
 * - Otherwise the shortened form `${serverId}__${head}_h${hash}`: `head` is the name with every
 *   other character replaced by `_`, cut to fit; `hash` is 8 base-36 characters of the SHA-256 of
 *   the whole name. A name that already ends like a shortened one (`_h` + 8 of `[0-9a-z]`) is
 *   shortened too, so the two forms can never be confused: a parsed name is either the tool's own
 *   name or a shortened one that `resolveToolName` looks up in the server's list.
 *
 * Server ids match SERVER_ID (no `__`), so splitting at the first `__` is unambiguous even when a
 * tool's own name contains `__`.
 */
export const SERVER_ID = /^[a-z0-9][a-z0-9-]{0,47}$/;
export const MAX_NAME_LENGTH = 64;
const SEPARATOR = '__';
const SAFE_NAME = /^[A-Za-z0-9_-]+$/;
const SHORTENED = /_h[0-9a-z]{8}$/;
const HASH_LENGTH = 8;

export type ToolName =
  /** The server's own name of the tool (or prompt). */
  | { serverId: string; tool: string }
  /** A shortened name: which tool it stands for is found with `resolveToolName`. */
  | { serverId: string; shortened: string };

function hashOf(name: string, attempt: number): string {
  const digest = createHash('sha256').update(attempt === 0 ? name : `${name}\n${attempt}`).digest();
  return BigInt(`0x${digest.subarray(0, 8).toString('hex')}`).toString(36).padStart(HASH_LENGTH, '0').slice(-HASH_LENGTH);
}

function shortenedWith(prefix: string, name: string, attempt: number, maxLength: number): string {
  const suffix = `_h${hashOf(name, attempt)}`;
  const head = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, Math.max(0, maxLength - prefix.length - suffix.length));
  return `${prefix}${head}${suffix}`;
}

const shortened = (serverId: string, name: string, attempt: number, maxLength: number) =>
  shortenedWith(`${serverId}${SEPARATOR}`, name, attempt, maxLength);

/**
 * A tool's name as an OpenAPI operationId (which Open WebUI hands to the model as a function
 * name): the name itself when it is at most 64 of `[A-Za-z0-9_-]`, else shortened the same way.
 */
export function createOperationId(tool: string): string {
  return tool.length <= MAX_NAME_LENGTH && SAFE_NAME.test(tool) && !SHORTENED.test(tool) ? tool : shortenedWith('', tool, 0, MAX_NAME_LENGTH);
}

/**
 * `maxLength` (default 64) may be set lower so that a client's own prefix still fits in 64 (Open
 * WebUI names a tool `{connection id}_{name}`). A server id too long for it leaves no room for
 * the tool's own characters: such names are `{server}___h{hash}` and may run over.
 */
export function createToolName(serverId: string, tool: string, maxLength = MAX_NAME_LENGTH): string {
  if (!SERVER_ID.test(serverId)) throw new Error(`invalid server id: ${serverId}`);
  const plain = `${serverId}${SEPARATOR}${tool}`;
  if (plain.length <= maxLength && SAFE_NAME.test(tool) && !SHORTENED.test(tool)) return plain;
  return shortened(serverId, tool, 0, maxLength);
}

/** The server id and the tool (or the shortened name to resolve) of an aggregated name; null when the name is not one. */
export function parseToolName(name: string): ToolName | null {
  const at = name.indexOf(SEPARATOR);
  if (at <= 0) return null;
  const serverId = name.slice(0, at);
  const tool = name.slice(at + SEPARATOR.length);
  if (!SERVER_ID.test(serverId) || tool === '') return null;
  return SHORTENED.test(tool) ? { serverId, shortened: name } : { serverId, tool };
}

/**
 * The aggregated names of all of one server's tools (or prompts), in list order, without
 * duplicates: in the astronomically rare case that two shortened names collide, the later name (in
 * sorted order, so the choice does not depend on list order) is hashed again with a counter.
 */
export function createToolNames(serverId: string, names: readonly string[], maxLength = MAX_NAME_LENGTH): Map<string, string> {
  const byName = new Map<string, string>();
  const taken = new Set<string>();
  for (const name of [...new Set(names)].sort()) {
    let aggregated = createToolName(serverId, name, maxLength);
    for (let attempt = 1; taken.has(aggregated); attempt += 1) aggregated = shortened(serverId, name, attempt, maxLength);
    taken.add(aggregated);
    byName.set(name, aggregated);
  }
  return new Map([...new Set(names)].map((n) => [n, byName.get(n)!]));
}

/** The server's name behind a shortened aggregated name, given the server's current names; null if none. */
export function resolveToolName(serverId: string, aggregated: string, names: readonly string[], maxLength = MAX_NAME_LENGTH): string | null {
  for (const [name, candidate] of createToolNames(serverId, names, maxLength)) if (candidate === aggregated) return name;
  return null;
}
