import { readFileSync } from 'node:fs';
import type { Router } from 'express';
import { identityOf } from '@mcpgw/http';
import type { CsrfTokens } from '../middleware/require-csrf.middleware.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const ASSETS: Record<string, { type: string; body: string }> = {
  'app.js': { type: 'text/javascript', body: readFileSync(new URL('../ui/app.js', import.meta.url), 'utf8') },
  'app.css': { type: 'text/css', body: readFileSync(new URL('../ui/app.css', import.meta.url), 'utf8') },
};

/**
 * GET /mcp-admin: the portal shell (no inline script or style; the CSRF token and the caller's
 * email, escaped, ride in meta tags) and its two static files under /mcp-admin/assets/. The tabs
 * are drawn by app.js from the REST API.
 */
export function registerHomeRoutes(router: Router, csrf: CsrfTokens, features: { toolTester: boolean }): void {
  router.get(['/mcp-admin', '/mcp-admin/'], (req, res) => {
    const i = identityOf(req);
    res.setHeader('cache-control', 'no-store');
    res.type('html').send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>mcpgw admin</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${esc(csrf.issue(i.userId))}"><meta name="user-email" content="${esc(i.email)}"><meta name="features" content="${features.toolTester ? 'tool-tester' : ''}">
<link rel="stylesheet" href="/mcp-admin/assets/app.css"><script src="/mcp-admin/assets/app.js" defer></script></head>
<body><header><h1>mcpgw admin</h1><span id="whoami">Signed in as <strong>${esc(i.email)}</strong></span></header>
<nav id="tabs" aria-label="Sections"></nav><main id="view"><p>Loading…</p></main><div id="toast" role="status" aria-live="polite"></div></body></html>`);
  });
  router.get('/mcp-admin/assets/:file', (req, res, next) => {
    const asset = ASSETS[req.params.file];
    if (!asset) return next();
    res.setHeader('cache-control', 'no-cache');
    res.type(asset.type).send(asset.body);
  });
}
