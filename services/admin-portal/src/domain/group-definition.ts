import { z } from 'zod';

/** A group name as the groups table allows it. */
export const GROUP_NAME = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,127}$/, 'must start with a letter or digit; letters, digits, space, . _ - (at most 128)');
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOOL = z.string().min(1).max(128);

/** Tools of one grant: ['*'] for every tool, else the chosen names ("all" is the registry guide's word for '*'). */
export const TOOL_LIST = z
  .array(TOOL)
  .min(1, 'list at least one tool, or "*" for every tool')
  .max(1000)
  .transform((tools) => (tools.includes('*') || tools.includes('all') ? ['*'] : [...new Set(tools)]));

/**
 * A group definition in the registry guide's JSON format: `scope_name`, `description`, `servers`
 * (`server_name`, `tools`, `access_level`), optional `create_in_idp` (ignored: mcpgw does not create
 * groups in Entra) and `group_mappings` (Entra group object ids that map to the group).
 */
export const GroupDefinition = z
  .object({
    scope_name: GROUP_NAME,
    description: z.string().max(1000),
    servers: z
      .array(
        z
          .object({
            server_name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/, 'must be a server id'),
            tools: TOOL_LIST,
            access_level: z.literal('execute').default('execute'),
          })
          .strict(),
      )
      .max(500),
    create_in_idp: z.boolean().optional(),
    group_mappings: z.array(z.string().regex(GUID, 'must be an Entra group object id (GUID)')).max(100).optional(),
    tenant: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be a tenant id').nullable().optional(),
  })
  .strict();
export type GroupDefinition = z.infer<typeof GroupDefinition>;

/** Parses "email,group" lines (a header line "email,group" is skipped); returns rows and per-line problems. */
export function parseMembershipCsv(text: string): { rows: { line: number; email: string; group: string }[]; problems: string[] } {
  const rows: { line: number; email: string; group: string }[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || (i === 0 && /^email\s*,\s*group$/i.test(line))) return;
    const cells = line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
    if (cells.length !== 2 || !/^[^\s@]+@[^\s@]+$/.test(cells[0]!) || !GROUP_NAME.safeParse(cells[1]).success) {
      problems.push(`line ${i + 1}: expected "email,group"`);
      return;
    }
    rows.push({ line: i + 1, email: cells[0]!, group: cells[1]! });
  });
  return { rows, problems };
}
