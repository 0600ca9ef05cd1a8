import { wrapResourceUri } from './resource-uri.js';

type Item = Record<string, unknown>;

const isItem = (value: unknown): value is Item => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * On /mcp, a resource a tool result or a prompt message points at (a `resource_link`, an embedded
 * `resource`) carries the aggregated URI, so the caller can read it back there. Everything else in
 * the content is left as it came.
 */
export function wrapContentUris(serverId: string, block: unknown): unknown {
  if (!isItem(block)) return block;
  if (block.type === 'resource_link' && typeof block.uri === 'string') return { ...block, uri: wrapResourceUri(serverId, block.uri) };
  if (block.type === 'resource' && isItem(block.resource) && typeof block.resource.uri === 'string') {
    return { ...block, resource: { ...block.resource, uri: wrapResourceUri(serverId, block.resource.uri) } };
  }
  return block;
}

export function wrapContentListUris(serverId: string, content: unknown): unknown {
  return Array.isArray(content) ? content.map((block) => wrapContentUris(serverId, block)) : content;
}
