import type { Router } from 'express';
import type { ServerRepo } from '@mcpgw/db';
import { identityOf } from '@mcpgw/http';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * GET /mcp-admin: the portal's start page. Until the full portal lands it shows what exists:
 * who is signed in and the registered servers.
 */
export function registerHomeRoutes(router: Router, servers: Pick<ServerRepo, 'list'>): void {
  router.get(['/mcp-admin', '/mcp-admin/'], async (req, res) => {
    const i = identityOf(req);
    const rows = (await servers.list())
      .map((s) => `<tr><td>${esc(s.id)}</td><td>${esc(s.name)}</td><td>${esc(s.transport)}</td><td>${esc(s.url ?? '')}</td><td>${s.enabled ? 'yes' : 'no'}</td></tr>`)
      .join('');
    res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mcpgw admin</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}</style></head>
<body><h1>mcpgw admin</h1><p>Signed in as <strong>${esc(i.email)}</strong> (${esc(i.authMethod)}).</p>
<h2>MCP servers</h2><table><thead><tr><th>id</th><th>name</th><th>transport</th><th>URL</th><th>enabled</th></tr></thead><tbody>${rows}</tbody></table>
<p>REST API: <code>/mcp-admin/api/me</code>, <code>/mcp-admin/api/servers</code>.</p></body></html>`);
  });
}
