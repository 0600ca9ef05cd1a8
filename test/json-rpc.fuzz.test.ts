import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, gatewayHeaders, testIdentity, uniqueId } from '@mcpgw/test-support';
import type { Identity } from '@mcpgw/identity';
import { startInProcessStack, type InProcessStack } from './support/in-process-stack.js';

/**
 * Issue 9 item 8, property-based: arbitrary bodies POSTed to the MCP endpoints, straight to
 * mcp-proxy (with the gateway's signed identity headers) and through the gateway (with an API key),
 * with and without an MCP session. Every answer is below 500 and, when it has a body, well-formed
 * JSON-RPC (a result or an error with an integer code and a message; JSON or SSE); the services
 * keep answering afterwards. Bounded: 250 requests per property, 4 s at most each (fewer runs on a loaded machine), so the file stays under 20 s.
 */
let stack: InProcessStack;
/** Known before the arbitraries below are built, so they can name its tools. */
const demoId = uniqueId('demo');
let apiKey: string;
let identity: Identity;
const RUNS = { numRuns: 250, interruptAfterTimeLimit: 4_000 };
const INIT = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'fuzz', version: '1' } } };

beforeAll(async () => {
  stack = await startInProcessStack({ RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_ENABLED: 'false' });
  const fx = createFixtures(stack.t.repos);
  await stack.t.repos.servers.create({ id: demoId, name: 'Demo', transport: 'streamable-http', url: stack.demoUrl });
  const group = await fx.group();
  await stack.t.repos.access.setGrant(group.id, demoId, ['*']);
  const user = await fx.user({ groups: [group] });
  apiKey = user.key;
  identity = testIdentity({ userId: user.user.id, email: user.user.email, groups: [group.name] });
}, 60_000);
afterAll(async () => {
  process.stdout.write(`[fuzz json-rpc] statuses: ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}\n`);
  await stack?.close();
});

// ---- what is sent ----------------------------------------------------------------------------

const METHODS = ['initialize', 'ping', 'tools/list', 'tools/call', 'resources/list', 'resources/read', 'resources/templates/list', 'prompts/list', 'prompts/get', 'completion/complete', 'logging/setLevel', 'notifications/initialized', 'notifications/cancelled', 'sampling/createMessage'];
const id = fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), fc.constant(null), fc.double(), fc.jsonValue({ maxDepth: 1 }));
const message = fc.record(
  {
    jsonrpc: fc.oneof({ weight: 4, arbitrary: fc.constant('2.0') }, fc.constantFrom('1.0', '', 2)),
    id,
    method: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...METHODS) }, fc.string({ maxLength: 30 }), fc.jsonValue({ maxDepth: 1 })),
    params: fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record({ name: fc.oneof(fc.constantFrom('echo', 'add', 'get_current_time', `${demoId}__echo`), fc.string({ maxLength: 70 })), arguments: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] }),
      fc.record({ uri: fc.oneof(fc.webUrl(), fc.string({ maxLength: 40 })), protocolVersion: fc.string({ maxLength: 12 }) }, { requiredKeys: [] }),
    ),
    result: fc.jsonValue({ maxDepth: 2 }),
    error: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
/** Well-formed requests of known methods with hostile params: they get past parsing into the handlers. */
const request = fc.record({
  jsonrpc: fc.constant('2.0'),
  id: fc.oneof(fc.integer(), fc.string({ maxLength: 10 })),
  method: fc.constantFrom(...METHODS.filter((m) => !m.startsWith('notifications/'))),
  params: fc.oneof(
    fc.record({ name: fc.oneof(fc.constantFrom('echo', 'add', 'get_current_time', `${demoId}__echo`, `${demoId}__add`), fc.string({ maxLength: 70 })), arguments: fc.oneof(fc.record({ a: fc.jsonValue({ maxDepth: 1 }), b: fc.jsonValue({ maxDepth: 1 }), text: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 })) }, { requiredKeys: [] }),
    fc.record({ uri: fc.oneof(fc.webUrl(), fc.string({ maxLength: 40 })), cursor: fc.jsonValue({ maxDepth: 1 }), level: fc.string({ maxLength: 8 }) }, { requiredKeys: [] }),
    fc.jsonValue({ maxDepth: 2 }),
  ),
});
/** Raw body text: requests, JSON-RPC-shaped messages, batches, any JSON, and text that is not JSON at all. */
const body = fc.oneof(
  { weight: 6, arbitrary: request.map((m) => JSON.stringify(m)) },
  { weight: 3, arbitrary: message.map((m) => JSON.stringify(m)) },
  { weight: 2, arbitrary: fc.array(message, { maxLength: 4 }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: message.map((m) => JSON.stringify(m).slice(0, -1)) },
);
const contentType = fc.oneof({ weight: 5, arbitrary: fc.constant('application/json') }, fc.constantFrom('text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', ''));

// ---- what must come back ---------------------------------------------------------------------

function checkMessage(m: unknown, where: string): void {
  expect(m, where).toBeTypeOf('object');
  const msg = m as Record<string, unknown>;
  expect(msg.jsonrpc, where).toBe('2.0');
  if ('error' in msg) {
    const e = msg.error as Record<string, unknown>;
    expect(Number.isInteger(e?.code), `${where}: integer error code`).toBe(true);
    expect(typeof e?.message, where).toBe('string');
  } else {
    // A result, or a request/notification the server sends on the stream (e.g. list_changed).
    expect('result' in msg || typeof msg.method === 'string', where).toBe(true);
  }
}

/** Statuses seen, for the run's summary line (shows the properties reached past the first checks). */
const statuses = new Map<number, number>();

async function checkResponse(res: Response, sent: string): Promise<void> {
  statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
  const where = `${res.status} for ${JSON.stringify(sent).slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  const text = await res.text();
  if (text === '') {
    expect([200, 202, 204], where).toContain(res.status);
    return;
  }
  const type = res.headers.get('content-type') ?? '';
  if (type.startsWith('text/event-stream')) {
    const datas = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).filter(Boolean);
    for (const d of datas) {
      const parsed = JSON.parse(d) as unknown;
      for (const m of Array.isArray(parsed) ? parsed : [parsed]) checkMessage(m, where);
    }
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${where}: body is not JSON: ${text.slice(0, 200)}`);
  }
  for (const m of Array.isArray(parsed) ? parsed : [parsed]) checkMessage(m, `${where}: ${text.slice(0, 300)}`);
}

// ---- the two doors ---------------------------------------------------------------------------

type Door = (path: string, body: string, type: string, session?: string) => Promise<Response>;

const direct: Door = (path, text, type, session) =>
  fetch(`${stack.mcpProxyUrl}${path}`, {
    method: 'POST',
    headers: {
      ...gatewayHeaders(stack.secret, 'POST', path, identity),
      accept: 'application/json, text/event-stream',
      ...(type ? { 'content-type': type } : {}),
      ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } : {}),
    },
    body: text,
  });

const viaGateway: Door = (path, text, type, session) =>
  fetch(`${stack.gatewayUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${apiKey}`,
      accept: 'application/json, text/event-stream',
      ...(type ? { 'content-type': type } : {}),
      ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } : {}),
    },
    body: text,
  });

async function openSession(door: Door, path: string): Promise<string> {
  const res = await door(path, JSON.stringify(INIT), 'application/json');
  expect(res.status).toBe(200);
  await res.text();
  const session = res.headers.get('mcp-session-id')!;
  await (await door(path, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), 'application/json', session)).text();
  return session;
}

describe.each([
  ['mcp-proxy (signed headers)', () => direct, () => stack.mcpProxyUrl + '/health'],
  ['the gateway (API key)', () => viaGateway, () => stack.gatewayUrl + '/gateway/health'],
] as const)('JSON-RPC handling of %s (fuzz)', (_name, doorOf, healthOf) => {
  const paths = () => fc.constantFrom('/mcp', `/mcp/${demoId}`);

  it('answers any body without a session with a JSON-RPC message, never 500', async () => {
    const door = doorOf();
    await fc.assert(
      fc.asyncProperty(paths(), body, contentType, async (path, text, type) => {
        await checkResponse(await door(path, text, type), text);
      }),
      RUNS,
    );
  });

  it('answers any body inside an open session with a JSON-RPC message, never 500', async () => {
    const door = doorOf();
    const sessions = new Map<string, string>();
    for (const path of ['/mcp', `/mcp/${demoId}`]) sessions.set(path, await openSession(door, path));
    await fc.assert(
      fc.asyncProperty(paths(), body, async (path, text) => {
        await checkResponse(await door(path, text, 'application/json', sessions.get(path)), text);
      }),
      RUNS,
    );
  });

  it('still serves a real tool call afterwards', async () => {
    expect((await fetch(healthOf())).status).toBe(200);
    const door = doorOf();
    const session = await openSession(door, `/mcp/${demoId}`);
    const res = await door(`/mcp/${demoId}`, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'add', arguments: { a: 2, b: 3 } } }), 'application/json', session);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"sum":5');
  });
});
