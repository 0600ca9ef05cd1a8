import { list, optional, required, type Parsed } from './args.js';
import { CliError, EXIT, type AdminClient } from './client.js';

export interface CommandContext {
  api: AdminClient;
  args: Parsed;
  readFile(path: string): Promise<string>;
  writeFile(path: string, text: string): Promise<void>;
}

/** What a command answers: data for --json, and lines for people. */
export interface Output {
  data: unknown;
  text: string[];
}

export interface Command {
  summary: string;
  usage: string;
  run(ctx: CommandContext): Promise<Output>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const table = (rows: string[][]) => {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
};

async function userByEmail(api: AdminClient, email: string): Promise<Json> {
  const found = (await api.request<Json>('GET', `/users?query=${encodeURIComponent(email)}&limit=100`)).items.find((u: Json) => u.email.toLowerCase() === email.toLowerCase());
  if (!found) throw new CliError(`no user with email ${email}`, EXIT.api);
  return found;
}
async function groupByName(api: AdminClient, name: string): Promise<Json> {
  const found = (await api.request<Json>('GET', `/groups?query=${encodeURIComponent(name)}&limit=500`)).items.find((g: Json) => g.name.toLowerCase() === name.toLowerCase());
  if (!found) throw new CliError(`no group named ${name}`, EXIT.api);
  return found;
}
const positiveInt = (v: string | undefined, name: string) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError(`--${name} must be a positive whole number`, EXIT.usage);
  return Number(v);
};

/** The commands, with the registry guide's names. */
export const COMMANDS: Record<string, Command> = {
  'import-group': {
    summary: "Create or replace a group from a JSON definition (the registry guide's format)",
    usage: 'import-group --file my-group.json',
    async run({ api, args, readFile }) {
      const file = required(args, 'file');
      let body: unknown;
      try {
        body = JSON.parse(await readFile(file));
      } catch (err) {
        throw new CliError(`${file}: ${(err as Error).message}`, EXIT.usage);
      }
      const r = await api.request<Json>('POST', '/groups/import', body);
      return { data: r, text: [`group ${r.name} ${r.created ? 'created' : 'updated'}: ${r.definition.servers.length} server grant(s)`] };
    },
  },
  'export-group': {
    summary: "Print (or save) a group's JSON definition",
    usage: 'export-group --name GROUP [--file out.json]',
    async run({ api, args, writeFile }) {
      const g = await groupByName(api, required(args, 'name'));
      const def = await api.request<Json>('GET', `/groups/${g.id}/export`);
      const file = optional(args, 'file');
      const text = JSON.stringify(def, null, 2);
      if (file) await writeFile(file, `${text}\n`);
      return { data: def, text: file ? [`written to ${file}`] : text.split('\n') };
    },
  },
  'user-create-human': {
    summary: 'Create a local account (optionally with a password and groups)',
    usage: 'user-create-human --email EMAIL [--username NAME] [--first-name F --last-name L] [--groups a,b] [--password P] [--admin]',
    async run({ api, args }) {
      const name = [optional(args, 'first-name'), optional(args, 'last-name')].filter(Boolean).join(' ') || optional(args, 'username');
      const groups = list(optional(args, 'groups'));
      const password = optional(args, 'password');
      const u = await api.request<Json>('POST', '/users', {
        email: required(args, 'email'),
        ...(name ? { name } : {}),
        ...(groups ? { groups } : {}),
        ...(password ? { password } : {}),
        ...(args.flags.admin === true ? { admin: true } : {}),
      });
      return { data: u, text: [`user ${u.email} created (${u.id})${u.groups.length ? `, groups: ${u.groups.join(', ')}` : ''}`] };
    },
  },
  'user-create-m2m': {
    summary: 'Create an M2M client; prints its client id and secret once',
    usage: 'user-create-m2m --name CLIENT_ID --groups a,b [--description TEXT]',
    async run({ api, args }) {
      const description = optional(args, 'description');
      const c = await api.request<Json>('POST', '/m2m-clients', { name: required(args, 'name'), groups: list(required(args, 'groups')), ...(description ? { description } : {}) });
      return { data: c, text: [`client_id:     ${c.client_id}`, `client_secret: ${c.client_secret}`, 'Save the secret now: it is shown only once.'] };
    },
  },
  'user-list': {
    summary: 'List users (search by email or name, page with --limit/--offset)',
    usage: 'user-list [--query TEXT] [--source local|entra|openwebui|m2m] [--limit 100] [--offset 0]',
    async run({ api, args }) {
      const q = new URLSearchParams();
      for (const f of ['query', 'source', 'limit', 'offset']) {
        const v = optional(args, f);
        if (v) q.set(f, v);
      }
      const r = await api.request<Json>('GET', `/users?${q}`);
      return { data: r, text: table([['EMAIL', 'NAME', 'SOURCE', 'ENABLED', 'ID'], ...r.items.map((u: Json) => [u.email, u.name, u.source, String(u.enabled), u.id])]) };
    },
  },
  'group-list': {
    summary: 'List groups with member counts',
    usage: 'group-list [--query TEXT] [--limit 50] [--offset 0]',
    async run({ api, args }) {
      const q = new URLSearchParams();
      for (const f of ['query', 'limit', 'offset']) {
        const v = optional(args, f);
        if (v) q.set(f, v);
      }
      const r = await api.request<Json>('GET', `/groups?${q}`);
      return { data: r, text: table([['NAME', 'MEMBERS', 'TENANT', 'DESCRIPTION'], ...r.items.map((g: Json) => [g.name, String(g.members), g.tenant ?? '-', g.description])]) };
    },
  },
  'key-create': {
    summary: "Issue an mcpgw_ API key for a user; prints the key once",
    usage: 'key-create --email EMAIL [--name KEY_NAME] [--ttl-days N]',
    async run({ api, args }) {
      const ttl = positiveInt(optional(args, 'ttl-days'), 'ttl-days');
      const user = await userByEmail(api, required(args, 'email'));
      const name = optional(args, 'name');
      const k = await api.request<Json>('POST', `/users/${user.id}/keys`, { ...(name ? { name } : {}), ...(ttl ? { ttl_days: ttl } : {}) });
      return { data: k, text: [`api_key: ${k.key}`, `id:      ${k.id}`, `expires: ${k.expiresAt ?? 'never'}`, 'Save this key now: it is shown only once.'] };
    },
  },
  'key-revoke': {
    summary: 'Revoke an API key by id or by the key itself',
    usage: 'key-revoke (--id KEY_ID | --key mcpgw_…)',
    async run({ api, args }) {
      const id = optional(args, 'id');
      const key = optional(args, 'key');
      if (!id === !key) throw new CliError('give exactly one of --id or --key', EXIT.usage);
      if (id) {
        await api.request('DELETE', `/keys/${encodeURIComponent(id)}`);
        return { data: { id, status: 'revoked' }, text: [`key ${id} revoked`] };
      }
      const r = await api.request<Json>('POST', '/keys/revoke', { api_key: key });
      return { data: r, text: [`key ${r.prefix}… revoked`] };
    },
  },
  'server-add': {
    summary: 'Register an upstream MCP server (streamable-http, sse or stdio)',
    usage: 'server-add --id ID --name NAME (--url URL [--transport streamable-http|sse] | --command CMD [--args "a b"]) [--description TEXT] [--auth-header H] [--auth-format "Bearer {key}"]',
    async run({ api, args }) {
      const command = optional(args, 'command');
      const transport = optional(args, 'transport') ?? (command ? 'stdio' : 'streamable-http');
      const body: Record<string, unknown> = { id: required(args, 'id'), name: required(args, 'name'), transport };
      if (command) {
        body.command = command;
        const a = optional(args, 'args');
        if (a) body.args = a.split(' ').filter(Boolean);
      } else body.url = required(args, 'url');
      for (const [flag, field] of [['description', 'description'], ['auth-header', 'authHeader'], ['auth-format', 'authFormat']] as const) {
        const v = optional(args, flag);
        if (v) body[field] = v;
      }
      const s = await api.request<Json>('POST', '/servers', body);
      return { data: s, text: [`server ${s.id} added (${s.transport})`] };
    },
  },
  'server-list': {
    summary: 'List upstream servers with their last test result',
    usage: 'server-list',
    async run({ api }) {
      const r = await api.request<Json>('GET', '/servers');
      return {
        data: r,
        text: table([['ID', 'TRANSPORT', 'ENABLED', 'HEALTH', 'URL/COMMAND'], ...r.items.map((s: Json) => [s.id, s.transport, String(s.enabled), s.health ? (s.health.ok ? 'ok' : 'error') : 'untested', s.url ?? s.command])]),
      };
    },
  },
  'server-test': {
    summary: "Test the connection to a server: its tools, or the exact error (exit 1)",
    usage: 'server-test --id ID [--tenant TENANT]',
    async run({ api, args }) {
      const tenant = optional(args, 'tenant');
      const r = await api.request<Json>('POST', `/servers/${encodeURIComponent(required(args, 'id'))}/test${tenant ? `?tenant=${encodeURIComponent(tenant)}` : ''}`);
      if (!r.ok) throw Object.assign(new CliError(`cannot connect to ${r.serverId}: ${r.error}`, EXIT.api), { data: r });
      return { data: r, text: [`${r.serverId}: connected over ${r.transport} in ${r.latencyMs} ms, ${r.tools.length} tool(s)`, ...r.tools.map((t: Json) => `  ${t.name}`)] };
    },
  },
};
