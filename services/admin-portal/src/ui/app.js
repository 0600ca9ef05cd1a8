// mcpgw admin portal: a small vanilla-JS client of /mcp-admin/api. Every piece of text from the
// server is put into the page with textContent (never parsed as HTML), so it is always escaped.
'use strict';
const API = '/mcp-admin/api';
const csrf = document.querySelector('meta[name="csrf-token"]').content;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
function toast(text, error) {
  const box = h('div', { class: error ? 'error' : '' }, text);
  document.getElementById('toast').append(box);
  setTimeout(() => box.remove(), error ? 8000 : 3500);
}
async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  const res = await fetch(API + path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const msg = (data && (data.detail || data.title)) || `HTTP ${res.status}`;
    toast(msg, true);
    throw new Error(msg);
  }
  return data;
}
const fmt = (d) => (d ? new Date(d).toLocaleString() : '—');
const qs = (o) => { const p = new URLSearchParams(); for (const [k, v] of Object.entries(o)) if (v !== '' && v !== undefined && v !== null) p.set(k, v); const s = p.toString(); return s ? `?${s}` : ''; };
function table(headers, rows) {
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))), h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, 'Nothing here yet.'))));
}
const row = (...cells) => h('tr', {}, cells.map((c) => h('td', {}, c)));
function field(label, input) { return h('label', {}, label, input); }
function formValues(form) { return Object.fromEntries(new FormData(form).entries()); }
let timers = [];
function clearTimers() { timers.forEach(clearInterval); timers = []; }

// ---- Users & Groups -------------------------------------------------------------------------
async function usersTab(view) {
  const state = { query: '', offset: 0, limit: 50 };
  const list = h('div');
  const detail = h('div');
  async function load() {
    const started = performance.now();
    const data = await api('GET', `/users${qs({ query: state.query, limit: state.limit, offset: state.offset })}`);
    list.replaceChildren(
      table(['Email', 'Name', 'Source', 'Enabled', 'Last activity', ''], data.items.map((u) =>
        row(u.email, u.name, u.source, u.enabled ? 'yes' : h('span', { class: 'bad' }, 'disabled'), fmt(u.lastSeenAt), h('span', {},
          h('button', { class: 'sec', onclick: () => showUser(u.id) }, 'Details'), ' ',
          h('button', { class: 'sec', onclick: async () => { await api('PATCH', `/users/${u.id}`, { enabled: !u.enabled }); toast(`${u.email} ${u.enabled ? 'disabled' : 'enabled'}`); load(); } }, u.enabled ? 'Disable' : 'Enable'))))),
      h('p', {},
        h('button', { class: 'sec', disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - state.limit); load(); } }, '‹ Previous'), ' ',
        `Users ${state.offset + 1}–${state.offset + data.items.length}`, ' ',
        h('button', { class: 'sec', disabled: data.items.length < state.limit, onclick: () => { state.offset += state.limit; load(); } }, 'Next ›'),
        h('span', { class: 'muted', id: 'users-load-ms' }, ` loaded in ${Math.round(performance.now() - started)} ms`)),
    );
  }
  async function showUser(id) {
    const [u, keys] = await Promise.all([api('GET', `/users/${id}`), api('GET', `/users/${id}/keys`)]);
    detail.replaceChildren(h('h3', {}, u.email), h('p', {}, 'Groups: ', u.groups.length ? u.groups.join(', ') : 'none', ' · Last activity: ', fmt(u.lastSeenAt)),
      table(['Key', 'Name', 'Created', 'Expires', 'Last used', 'Status'], keys.items.map((k) => row(k.prefix + '…', k.name, fmt(k.createdAt), fmt(k.expiresAt), fmt(k.lastUsedAt), k.revokedAt ? 'revoked' : 'active'))));
  }
  const search = h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); state.query = formValues(e.target).q; state.offset = 0; load(); } },
    field('Search by email or name', h('input', { name: 'q', type: 'search', id: 'user-search' })), h('button', { class: 'act' }, 'Search'));
  const create = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const v = formValues(e.target);
      await api('POST', '/users', { email: v.email, ...(v.name ? { name: v.name } : {}), ...(v.groups ? { groups: v.groups.split(',').map((s) => s.trim()).filter(Boolean) } : {}) });
      toast(`User ${v.email} added`); e.target.reset(); load(); } },
    field('Email', h('input', { name: 'email', required: true, id: 'new-user-email' })), field('Name', h('input', { name: 'name' })),
    field('Groups (comma-separated)', h('input', { name: 'groups', id: 'new-user-groups' })), h('button', { class: 'act', id: 'add-user' }, 'Add user'));
  const bulk = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const v = formValues(e.target);
      const file = e.target.querySelector('input[type=file]').files[0];
      const csv = file ? await file.text() : v.csv;
      const r = await api('POST', '/group-members/bulk', { csv, remove: v.mode === 'remove' });
      toast(`${r.added ?? r.removed} memberships ${v.mode === 'remove' ? 'removed' : 'added'}`); e.target.reset(); } },
    field('CSV "email,group" (one per line)', h('textarea', { name: 'csv', rows: 3, cols: 40 })), field('or upload a .csv', h('input', { type: 'file', accept: '.csv,text/csv' })),
    field('Action', h('select', { name: 'mode' }, h('option', { value: 'add' }, 'Add to groups'), h('option', { value: 'remove' }, 'Remove from groups'))), h('button', { class: 'act' }, 'Apply'));
  view.append(h('h2', {}, 'Users & Groups'), search, list, detail, h('h3', {}, 'Add a user'), create, h('h3', {}, 'Group membership in bulk'), bulk);
  await load();
}

// ---- Groups & Servers -----------------------------------------------------------------------
async function groupsTab(view) {
  const list = h('div');
  const detail = h('div');
  const servers = (await api('GET', '/servers')).items;
  async function load() {
    const data = await api('GET', '/groups?limit=200');
    list.replaceChildren(table(['Group', 'Description', 'Tenant', 'Members', 'Admin', ''], data.items.map((g) =>
      row(g.name, g.description, g.tenant || '—', String(g.members), g.admin ? 'yes' : '', h('button', { class: 'sec', onclick: () => open(g.id) }, 'Open')))));
  }
  async function open(id) {
    const g = await api('GET', `/groups/${id}`);
    const toolsBox = h('div', { id: 'grant-tools' });
    const serverSelect = h('select', { name: 'server', id: 'grant-server' }, servers.map((s) => h('option', { value: s.id }, s.id)));
    async function loadTools() {
      toolsBox.replaceChildren('Loading tools…');
      try {
        const tools = await api('GET', `/servers/${serverSelect.value}/tools`);
        toolsBox.replaceChildren(h('label', {}, h('span', {}, h('input', { type: 'checkbox', name: 'all', value: '*', id: 'grant-all' }), ' All tools (also future ones)')),
          ...tools.items.map((t) => h('label', {}, h('span', {}, h('input', { type: 'checkbox', name: 'tool', value: t.name }), ' ', t.name, ' ', h('span', { class: 'muted' }, t.description || '')))));
      } catch { toolsBox.replaceChildren(h('span', { class: 'bad' }, 'Could not fetch the tools of this server.')); }
    }
    const grant = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault();
        const all = e.target.querySelector('#grant-all');
        const tools = all && all.checked ? ['*'] : [...e.target.querySelectorAll('input[name=tool]:checked')].map((c) => c.value);
        await api('PUT', `/groups/${id}/grants/${serverSelect.value}`, { tools }); toast('Access granted'); open(id); } },
      field('Server', serverSelect), h('button', { type: 'button', class: 'sec', onclick: loadTools, id: 'load-tools' }, 'Fetch tools'), toolsBox, h('button', { class: 'act', id: 'grant-save' }, 'Grant'));
    const member = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const v = formValues(e.target); await api('POST', `/groups/${id}/members`, { email: v.email }); toast(`${v.email} added`); e.target.reset(); open(id); } },
      field('Add member by email', h('input', { name: 'email', required: true, id: 'member-email' })), h('button', { class: 'act' }, 'Add'));
    const members = await api('GET', `/groups/${id}/members?limit=100`);
    detail.replaceChildren(h('h3', {}, `Group ${g.name}`), h('p', {}, g.description),
      h('p', {}, 'Entra group object ids: ', g.idpMappings.filter((m) => m.claim === 'groups').map((m) => m.value).join(', ') || 'none'),
      table(['Server', 'Tools', ''], g.grants.map((a) => row(a.serverId, a.tools.includes('*') ? 'all tools' : a.tools.join(', '),
        h('button', { class: 'sec', onclick: async () => { await api('DELETE', `/groups/${id}/grants/${a.serverId}`); open(id); } }, 'Remove')))),
      grant,
      h('h4', {}, `Members (${members.total})`),
      table(['Email', 'Name', ''], members.items.map((u) => row(u.email, u.name, h('button', { class: 'sec', onclick: async () => { await api('DELETE', `/groups/${id}/members/${u.id}`); open(id); } }, 'Remove')))),
      member,
      h('p', {}, h('a', { href: `${API}/groups/${id}/export`, download: `${g.name}.json` }, 'Export as JSON'), ' ',
        h('button', { class: 'sec', onclick: async () => { if (confirm(`Delete group ${g.name}?`)) { await api('DELETE', `/groups/${id}`); detail.replaceChildren(); load(); } } }, 'Delete group')));
  }
  const create = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const v = formValues(e.target);
      const ids = v.entra.split(',').map((s) => s.trim()).filter(Boolean);
      const g = await api('POST', '/groups', { name: v.name, description: v.description, ...(v.tenant ? { tenant: v.tenant } : {}), ...(ids.length ? { entraGroupIds: ids } : {}) });
      toast(`Group ${g.name} created`); e.target.reset(); await load(); open(g.id); } },
    field('Name', h('input', { name: 'name', required: true, id: 'new-group-name' })), field('Description', h('input', { name: 'description' })),
    field('Tenant (optional)', h('input', { name: 'tenant' })), field('Entra group object ids (comma-separated)', h('input', { name: 'entra', size: 40 })), h('button', { class: 'act', id: 'create-group' }, 'Create group'));
  const importForm = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const file = e.target.querySelector('input[type=file]').files[0];
      const text = file ? await file.text() : formValues(e.target).json;
      let body; try { body = JSON.parse(text); } catch { toast('That is not valid JSON', true); return; }
      const r = await api('POST', '/groups/import', body); toast(`Group ${r.name} ${r.created ? 'created' : 'updated'}`); load(); } },
    field('Group definition JSON', h('textarea', { name: 'json', rows: 3, cols: 50 })), field('or upload', h('input', { type: 'file', accept: '.json,application/json' })), h('button', { class: 'act' }, 'Import'));
  view.append(h('h2', {}, 'Groups & Servers'), list, h('h3', {}, 'Create a group'), create, detail, h('h3', {}, 'Import a group'), importForm);
  await load();
}

// ---- MCP Servers ----------------------------------------------------------------------------
async function serversTab(view) {
  const list = h('div');
  const result = h('div', { id: 'test-result' });
  async function load() {
    const data = await api('GET', '/servers');
    list.replaceChildren(table(['Id', 'Name', 'Transport', 'URL / command', 'Enabled', 'Health', ''], data.items.map((s) => row(s.id, s.name, s.transport, s.url || [s.command, ...s.args].join(' '),
      s.enabled ? 'yes' : 'no',
      s.health ? h('span', { class: s.health.ok ? 'ok' : 'bad' }, s.health.ok ? `ok, ${s.health.tools} tools (${fmt(s.health.checkedAt)})` : `error: ${s.health.error}`) : h('span', { class: 'muted' }, 'not tested'),
      h('span', {},
        h('button', { class: 'sec', onclick: () => test(s.id) }, 'Test connection'), ' ',
        h('button', { class: 'sec', onclick: async () => { await api('PATCH', `/servers/${s.id}`, { enabled: !s.enabled }); load(); } }, s.enabled ? 'Disable' : 'Enable'), ' ',
        h('button', { class: 'sec', onclick: () => edit(s) }, 'Edit'), ' ',
        h('button', { class: 'sec', onclick: async () => { if (confirm(`Remove server ${s.id}?`)) { await api('DELETE', `/servers/${s.id}`); load(); } } }, 'Remove'))))));
  }
  async function test(id) {
    result.replaceChildren(`Testing ${id}…`);
    const r = await api('POST', `/servers/${id}/test`);
    result.replaceChildren(r.ok ? h('div', {}, h('p', { class: 'ok' }, `Connected to ${id} over ${r.transport} in ${r.latencyMs} ms; ${r.tools.length} tools:`), table(['Tool', 'Description'], r.tools.map((t) => row(t.name, t.description || ''))))
      : h('p', { class: 'bad' }, `Could not connect to ${id}: ${r.error}`));
    load();
  }
  const form = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const v = formValues(e.target);
      const body = { name: v.name, description: v.description, transport: v.transport, ...(v.transport === 'stdio' ? { command: v.target, args: v.args ? v.args.split(' ') : [] } : { url: v.target }), authHeader: v.authHeader || 'Authorization', authFormat: v.authFormat || 'Bearer {key}' };
      if (e.target.dataset.edit) await api('PATCH', `/servers/${e.target.dataset.edit}`, body); else await api('POST', '/servers', { id: v.id, ...body });
      toast(`Server ${v.id || e.target.dataset.edit} saved`); delete e.target.dataset.edit; e.target.reset(); load(); } },
    field('Id (in /mcp/{id})', h('input', { name: 'id', id: 'server-id' })), field('Name', h('input', { name: 'name', required: true })), field('Description', h('input', { name: 'description' })),
    field('Transport', h('select', { name: 'transport' }, ['streamable-http', 'sse', 'stdio'].map((t) => h('option', { value: t }, t)))),
    field('URL (or command for stdio)', h('input', { name: 'target', required: true, size: 40 })), field('Arguments (stdio)', h('input', { name: 'args' })),
    field('Key header', h('input', { name: 'authHeader', placeholder: 'Authorization' })), field('Key format', h('input', { name: 'authFormat', placeholder: 'Bearer {key}' })),
    h('button', { class: 'act' }, 'Save server'));
  function edit(s) {
    form.dataset.edit = s.id;
    for (const [k, v] of Object.entries({ id: s.id, name: s.name, description: s.description, transport: s.transport, target: s.url || s.command, args: s.args.join(' '), authHeader: s.authHeader, authFormat: s.authFormat })) form.elements[k].value = v;
    form.elements.id.disabled = true;
  }
  view.append(h('h2', {}, 'MCP Servers'), list, result, h('h3', {}, 'Add or edit a server'), form);
  await load();
}

// ---- API Keys -------------------------------------------------------------------------------
async function keysTab(view) {
  const tenantKeys = h('div');
  const userKeys = h('div');
  const shown = h('div', { id: 'new-key' });
  async function loadTenantKeys() {
    const data = await api('GET', '/tenant-keys');
    tenantKeys.replaceChildren(table(['Tenant', 'Server', 'Key', 'Updated', ''], data.items.map((k) => row(k.tenant, k.server, `••••${k.last4}`, fmt(k.updatedAt),
      h('button', { class: 'sec', onclick: async () => { if (confirm('Delete this key?')) { await api('DELETE', `/tenant-keys/${k.tenant}/${k.server}`); loadTenantKeys(); } } }, 'Delete')))));
  }
  const setKey = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const v = formValues(e.target); await api('PUT', `/tenant-keys/${encodeURIComponent(v.tenant)}/${encodeURIComponent(v.server)}`, { key: v.key }); toast('Tenant key saved'); e.target.reset(); loadTenantKeys(); } },
    field('Tenant', h('input', { name: 'tenant', required: true })), field('Server', h('input', { name: 'server', required: true })), field('Key (write-only)', h('input', { name: 'key', type: 'password', required: true, autocomplete: 'off' })), h('button', { class: 'act' }, 'Set or replace'));
  let currentUser = null;
  async function loadUserKeys() {
    if (!currentUser) return;
    const data = await api('GET', `/users/${currentUser.id}/keys`);
    userKeys.replaceChildren(h('h4', {}, `Keys of ${currentUser.email}`), table(['Key', 'Name', 'Created', 'Expires', 'Last used', ''], data.items.map((k) => row(k.prefix + '…', k.name, fmt(k.createdAt), fmt(k.expiresAt), fmt(k.lastUsedAt),
      k.revokedAt ? 'revoked' : h('button', { class: 'sec', onclick: async () => { await api('DELETE', `/keys/${k.id}`); toast('Key revoked'); loadUserKeys(); } }, 'Revoke')))));
  }
  const issue = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const v = formValues(e.target);
      const found = (await api('GET', `/users${qs({ query: v.email, limit: 20 })}`)).items.find((u) => u.email.toLowerCase() === v.email.toLowerCase());
      if (!found) { toast(`No user ${v.email}`, true); return; }
      currentUser = found;
      const k = await api('POST', `/users/${found.id}/keys`, { name: v.name || undefined, ttl_days: v.ttl ? Number(v.ttl) : undefined });
      const code = h('code', { class: 'secret', id: 'new-key-value' }, k.key);
      shown.replaceChildren(h('p', {}, 'Save this key now: it is shown only once. '), code, ' ',
        h('button', { class: 'sec', id: 'copy-key', onclick: async () => { await navigator.clipboard.writeText(k.key).then(() => toast('Copied'), () => toast('Copy failed: select the key and copy it', true)); } }, 'Copy'));
      loadUserKeys(); } },
    field('User email', h('input', { name: 'email', required: true, id: 'key-user-email' })), field('Key name', h('input', { name: 'name' })), field('Valid for (days, empty: no expiry)', h('input', { name: 'ttl', type: 'number', min: 1 })), h('button', { class: 'act', id: 'issue-key' }, 'Issue key'));
  const lookup = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const email = formValues(e.target).email;
      currentUser = (await api('GET', `/users${qs({ query: email, limit: 20 })}`)).items.find((u) => u.email.toLowerCase() === email.toLowerCase()) || null;
      if (!currentUser) toast(`No user ${email}`, true); else loadUserKeys(); } },
    field("Show a user's keys", h('input', { name: 'email', required: true })), h('button', { class: 'act' }, 'Show'));
  view.append(h('h2', {}, 'API Keys'), h('h3', {}, 'Tenant keys for upstream servers'), h('p', { class: 'muted' }, 'Stored encrypted; only the last 4 characters are ever shown.'), tenantKeys, setKey,
    h('h3', {}, "Users' mcpgw_ keys"), issue, shown, lookup, userKeys);
  await loadTenantKeys();
}

// ---- Dynamic Routing ------------------------------------------------------------------------
async function routingTab(view) {
  const list = h('div');
  async function load() {
    const data = await api('GET', '/tenant-endpoints');
    list.replaceChildren(table(['Tenant', 'Server', 'Endpoint', 'Updated', ''], data.items.map((x) => row(x.tenant, x.server, x.url, fmt(x.updatedAt),
      h('button', { class: 'sec', onclick: async () => { await api('DELETE', `/tenant-endpoints/${x.tenant}/${x.server}`); load(); } }, 'Remove')))));
  }
  const form = h('form', { class: 'inline', onsubmit: async (e) => { e.preventDefault(); const v = formValues(e.target); await api('PUT', `/tenant-endpoints/${encodeURIComponent(v.tenant)}/${encodeURIComponent(v.server)}`, { url: v.url }); toast('Endpoint saved'); e.target.reset(); load(); } },
    field('Tenant', h('input', { name: 'tenant', required: true })), field('Server', h('input', { name: 'server', required: true })), field('Endpoint URL', h('input', { name: 'url', required: true, size: 40 })), h('button', { class: 'act' }, 'Save'));
  view.append(h('h2', {}, 'Dynamic Routing'), h('p', { class: 'muted' }, "A tenant's endpoint replaces the server's URL for that tenant's users."), list, form);
  await load();
}

// ---- Analytics ------------------------------------------------------------------------------
const SVGNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) { const el = document.createElementNS(SVGNS, tag); for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v)); return el; }
function lineChart(title, points, seriesDefs, range) {
  const W = 560, H = 180, P = 34;
  const root = svg('svg', { class: 'chart', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title });
  const t = svg('text', { x: P, y: 14, 'font-size': 12 }); t.textContent = title; root.append(t);
  const xs = points.map((p) => new Date(p.minute).getTime());
  const max = Math.max(1, ...seriesDefs.flatMap((s) => points.map(s.value)));
  const x0 = range ? range[0] : Math.min(...xs), x1 = range ? range[1] : Math.max(...xs, x0 + 1);
  const X = (x) => P + ((x - x0) / (x1 - x0)) * (W - 2 * P);
  const Y = (y) => H - P + 10 - (y / max) * (H - 2 * P);
  root.append(svg('line', { x1: P, y1: Y(0), x2: W - P, y2: Y(0), stroke: '#999' }));
  for (const [x, anchor] of [[x0, 'start'], [x1, 'end']]) { const l = svg('text', { x: X(x), y: H - 6, 'font-size': 10, 'text-anchor': anchor, fill: '#667' }); l.textContent = new Date(x).toLocaleTimeString(); root.append(l); }
  const top = svg('text', { x: 2, y: Y(max) + 4, 'font-size': 10 }); top.textContent = String(Math.round(max * 10) / 10); root.append(top);
  seriesDefs.forEach((s, i) => {
    if (points.length > 1) root.append(svg('polyline', { fill: 'none', stroke: s.color, 'stroke-width': 2, points: points.map((p, j) => `${X(xs[j])},${Y(s.value(p))}`).join(' ') }));
    points.forEach((p, j) => {
      const dot = svg('circle', { cx: X(xs[j]), cy: Y(s.value(p)), r: 3, fill: s.color });
      const tip = svg('title', {}); tip.textContent = `${new Date(p.minute).toLocaleTimeString()}: ${Math.round(s.value(p) * 10) / 10} ${s.label}`; dot.append(tip);
      root.append(dot);
    });
    const l = svg('text', { x: W - P - 90, y: 14 + i * 12, 'font-size': 11, fill: s.color }); l.textContent = s.label; root.append(l);
  });
  if (!points.length) { const n = svg('text', { x: W / 2 - 40, y: H / 2, 'font-size': 12, fill: '#667' }); n.textContent = 'No requests'; root.append(n); }
  return root;
}
async function analyticsTab(view) {
  const out = h('div');
  const servers = (await api('GET', '/servers')).items;
  const form = h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); load(); } },
    field('Range', h('select', { name: 'range' }, [['1', 'last hour'], ['6', 'last 6 hours'], ['24', 'last 24 hours'], ['168', 'last 7 days']].map(([v, l]) => h('option', { value: v }, l)))),
    field('Server', h('select', { name: 'server' }, h('option', { value: '' }, 'all'), servers.map((s) => h('option', { value: s.id }, s.id)))),
    field('Tenant', h('input', { name: 'tenant', placeholder: 'all' })), h('button', { class: 'act' }, 'Show'));
  async function load() {
    const v = formValues(form);
    const until = new Date();
    const since = new Date(until.getTime() - Number(v.range) * 3_600_000);
    const d = await api('GET', `/analytics/summary${qs({ since: since.toISOString(), until: until.toISOString(), server: v.server, tenant: v.tenant })}`);
    const range = [new Date(d.since).getTime(), new Date(d.until).getTime()];
    const rate = d.totals.requests ? (100 * d.totals.errors) / d.totals.requests : 0;
    out.replaceChildren(
      h('div', { class: 'cards' }, [['Requests', d.totals.requests], ['Error rate', `${rate.toFixed(1)} %`], ['p50 latency', `${Math.round(d.totals.p50)} ms`], ['p95 latency', `${Math.round(d.totals.p95)} ms`]].map(([l, n]) => h('div', { class: 'card' }, h('b', {}, String(n)), l))),
      lineChart(`Requests per ${d.bucketSeconds / 60} min`, d.series, [{ label: 'requests', color: '#1f3a5f', value: (p) => p.requests }, { label: 'errors', color: '#a3231f', value: (p) => p.errors }], range),
      lineChart('Latency (ms)', d.series, [{ label: 'p50', color: '#176b2c', value: (p) => p.p50 }, { label: 'p95', color: '#b36b00', value: (p) => p.p95 }], range),
      lineChart('Error rate (%)', d.series, [{ label: 'errors %', color: '#a3231f', value: (p) => (p.requests ? (100 * p.errors) / p.requests : 0) }], range),
      h('h3', {}, 'Top tools'), table(['Tool', 'Server', 'Requests', 'Errors'], d.topTools.map((t) => row(t.key, t.serverId || '', String(t.requests), String(t.errors)))),
      h('h3', {}, 'Top users'), table(['User', 'Requests', 'Errors'], d.topUsers.map((t) => row(t.key, String(t.requests), String(t.errors)))));
  }
  view.append(h('h2', {}, 'Analytics'), form, out);
  await load();
}

// ---- Security Events and Live Activity ------------------------------------------------------
async function securityTab(view) {
  const events = h('div');
  const live = h('tbody');
  let last = 0;
  const form = h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); loadEvents(); } },
    field('User (email or id)', h('input', { name: 'user' })), field('Kind (comma-separated)', h('input', { name: 'kind' })), field('Client IP', h('input', { name: 'ip' })), h('button', { class: 'act' }, 'Filter'));
  async function loadEvents() {
    const v = formValues(form);
    const d = await api('GET', `/security-events${qs({ user: v.user, kind: v.kind, ip: v.ip, limit: 100 })}`);
    events.replaceChildren(table(['When', 'Kind', 'User', 'IP', 'Reason', 'Service'], d.items.map((x) => row(fmt(x.ts), x.kind, x.userEmail || x.userId || '—', x.clientIp || '', x.reason || '', x.service || ''))));
  }
  async function poll() {
    const d = await api('GET', `/activity${qs({ after: last || undefined, limit: 50 })}`);
    if (d.items.length) {
      last = d.last;
      for (const x of d.items.reverse()) live.prepend(row(fmt(x.ts), x.userEmail || '—', x.serverId || '', x.tool || x.mcpMethod || x.endpoint, String(x.status), `${Math.round(x.latencyMs)} ms`));
      while (live.children.length > 200) live.lastChild.remove();
    }
  }
  view.append(h('h2', {}, 'Security Events'), form, events, h('h2', {}, 'Live Activity'), h('p', { class: 'muted' }, 'New MCP calls appear here every 3 seconds.'),
    h('table', {}, h('thead', {}, h('tr', {}, ['When', 'User', 'Server', 'Tool / method', 'Status', 'Latency'].map((x) => h('th', {}, x)))), live));
  await Promise.all([loadEvents(), poll()]);
  timers.push(setInterval(() => poll().catch(() => {}), 3000));
}

// ---- Audit Log ------------------------------------------------------------------------------
async function auditTab(view) {
  const out = h('div');
  let before = null;
  const form = h('form', { class: 'inline', onsubmit: (e) => { e.preventDefault(); before = null; load(); } },
    field('Who (email)', h('input', { name: 'actor' })), field('Action (or prefix, e.g. group.)', h('input', { name: 'action' })), field('Target id', h('input', { name: 'targetId' })), h('button', { class: 'act' }, 'Filter'));
  async function load() {
    const v = formValues(form);
    const d = await api('GET', `/audit${qs({ actor: v.actor, action: v.action, targetId: v.targetId, before, limit: 50 })}`);
    out.replaceChildren(table(['When', 'Who', 'Action', 'Target', 'Before', 'After'], d.items.map((a) => row(fmt(a.ts), a.actorEmail, a.action, `${a.targetType} ${a.targetId || ''}`,
      a.before ? h('pre', {}, JSON.stringify(a.before, null, 1)) : '', a.after ? h('pre', {}, JSON.stringify(a.after, null, 1)) : ''))),
      d.next ? h('button', { class: 'sec', onclick: () => { before = d.next.before; load(); } }, 'Older ›') : '');
  }
  view.append(h('h2', {}, 'Audit Log'), h('p', { class: 'muted' }, 'Every change made through the portal, the CLI or the API. Read-only.'), form, out);
  await load();
}

// ---- Tool tester ----------------------------------------------------------------------------
function schemaInput(name, schema, requiredNames) {
  const req = requiredNames.includes(name);
  const label = `${name}${req ? ' *' : ''}${schema.description ? ` — ${schema.description}` : ''}`;
  if (Array.isArray(schema.enum)) return field(label, h('select', { name, 'data-kind': 'string' }, schema.enum.map((v) => h('option', { value: String(v) }, String(v)))));
  if (schema.type === 'boolean') return field(label, h('input', { name, type: 'checkbox', 'data-kind': 'boolean' }));
  if (schema.type === 'number' || schema.type === 'integer') return field(label, h('input', { name, type: 'number', step: schema.type === 'integer' ? 1 : 'any', required: req, 'data-kind': 'number' }));
  if (schema.type === 'object' || schema.type === 'array') return field(`${label} (JSON)`, h('textarea', { name, rows: 3, cols: 40, required: req, 'data-kind': 'json' }));
  return field(label, h('input', { name, required: req, size: 40, 'data-kind': 'string' }));
}
function readSchemaForm(form) {
  const args = {};
  for (const el of form.querySelectorAll('[data-kind]')) {
    const kind = el.dataset.kind;
    if (kind === 'boolean') { args[el.name] = el.checked; continue; }
    if (el.value === '') continue;
    args[el.name] = kind === 'number' ? Number(el.value) : kind === 'json' ? JSON.parse(el.value) : el.value;
  }
  return args;
}
async function toolTesterTab(view) {
  const servers = (await api('GET', '/servers')).items.filter((s) => s.enabled);
  const serverSelect = h('select', { id: 'tester-server' }, servers.map((s) => h('option', { value: s.id }, s.id)));
  const toolSelect = h('select', { id: 'tester-tool' });
  const argsForm = h('form', { class: 'inline', id: 'tester-args' });
  const result = h('div', { id: 'tester-result' });
  let tools = [];
  let loadedServer = null;
  function drawForm() {
    const tool = tools.find((t) => t.name === toolSelect.value);
    const schema = (tool && tool.inputSchema) || {};
    const props = schema.properties || {};
    argsForm.replaceChildren(...Object.entries(props).map(([n, sch]) => schemaInput(n, sch, schema.required || [])),
      field('Call as (email; empty: yourself)', h('input', { name: '__as', id: 'tester-as' })), h('button', { class: 'act', id: 'tester-call' }, 'Call tool'));
  }
  async function loadTools() {
    if (loadedServer === serverSelect.value) return;
    loadedServer = serverSelect.value;
    tools = (await api('GET', `/servers/${serverSelect.value}/tools`)).items;
    toolSelect.replaceChildren(...tools.map((t) => h('option', { value: t.name }, t.name)));
    drawForm();
  }
  argsForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    let args;
    try { args = readSchemaForm(argsForm); } catch { toast('An argument is not valid JSON', true); return; }
    const as = argsForm.elements.__as.value.trim();
    let asUser;
    if (as) {
      const u = (await api('GET', `/users${qs({ query: as, limit: 20 })}`)).items.find((x) => x.email.toLowerCase() === as.toLowerCase());
      if (!u) { toast(`No user ${as}`, true); return; }
      asUser = u.id;
    }
    result.replaceChildren('Calling…');
    const r = await api('POST', '/tool-tester/call', { server: serverSelect.value, tool: toolSelect.value, arguments: args, ...(asUser ? { asUser } : {}) });
    result.replaceChildren(h('p', { class: r.ok && !(r.result && r.result.isError) ? 'ok' : 'bad' }, `${r.ok ? 'Answered' : 'Failed'} in ${r.latencyMs} ms, called as ${r.asUser}`),
      h('pre', { id: 'tester-raw' }, JSON.stringify(r.ok ? r.result : { error: r.error }, null, 2)));
  });
  serverSelect.addEventListener('change', () => loadTools().catch(() => {}));
  toolSelect.addEventListener('change', drawForm);
  view.append(h('h2', {}, 'Tool tester'), h('p', { class: 'muted' }, 'Calls go through the gateway with the grants, limits and logging of the user they run as.'),
    h('form', { class: 'inline', onsubmit: (e) => e.preventDefault() }, field('Server', serverSelect), field('Tool', toolSelect)), argsForm, result);
  if (servers.length) await loadTools();
}

const features = (document.querySelector('meta[name="features"]') || { content: '' }).content.split(' ');
const TABS = [
  ['users', 'Users & Groups', usersTab],
  ['groups', 'Groups & Servers', groupsTab],
  ['servers', 'MCP Servers', serversTab],
  ['keys', 'API Keys', keysTab],
  ['routing', 'Dynamic Routing', routingTab],
  ['analytics', 'Analytics', analyticsTab],
  ['security', 'Security & Live Activity', securityTab],
  ['audit', 'Audit Log', auditTab],
  ...(features.includes('tool-tester') ? [['tester', 'Tool tester', toolTesterTab]] : []),
];
async function show(id) {
  clearTimers();
  document.getElementById('toast').replaceChildren();
  const tab = TABS.find((t) => t[0] === id) || TABS[0];
  for (const b of document.querySelectorAll('#tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === tab[0]));
  const view = document.getElementById('view');
  view.replaceChildren();
  view.dataset.tab = tab[0];
  try { await tab[2](view); view.dataset.ready = tab[0]; } catch (err) { view.append(h('p', { class: 'bad' }, `Could not load: ${err.message}`)); }
}
document.getElementById('tabs').append(...TABS.map(([id, label]) => h('button', { 'data-tab': id, role: 'tab', onclick: () => { location.hash = id; } }, label)));
window.addEventListener('hashchange', () => show(location.hash.slice(1)));
show(location.hash.slice(1));
