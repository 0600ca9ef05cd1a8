import { z } from 'zod';

/**
 * Loose result schemas for relaying: the SDK's own result schemas strip fields they do not know
 * (a newer protocol revision's, a vendor's), and a proxy passes results on as they came. These check
 * only what mcp-proxy itself reads.
 */
export const AnyResultSchema = z.looseObject({});

export const ListPageSchema = z.looseObject({ nextCursor: z.string().optional() });

export const ToolListPageSchema = z.looseObject({
  tools: z.array(z.looseObject({ name: z.string() })),
  nextCursor: z.string().optional(),
});

/** The list methods and the key of their items. */
export const LIST_KINDS = {
  tools: { method: 'tools/list', key: 'tools' },
  prompts: { method: 'prompts/list', key: 'prompts' },
  resources: { method: 'resources/list', key: 'resources' },
  resourceTemplates: { method: 'resources/templates/list', key: 'resourceTemplates' },
} as const;

export type ListKind = keyof typeof LIST_KINDS;
