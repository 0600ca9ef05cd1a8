import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { RateLimitRule } from '@mcpgw/db';
import type { SecurityEventInput } from '@mcpgw/http';
import { createRuleLimiters } from '@mcpgw/rate-limit';
import { silentLogger, testIdentity, uniqueId } from '@mcpgw/test-support';
import { createToolGuard, indexToolRules, inspectArguments, matchingRules, policyName } from './tool-limits.js';
import { isJsonRpcMessage } from './traffic.js';

const rule = (over: Partial<RateLimitRule>): RateLimitRule => ({
  id: uniqueId('rule-'),
  scope: 'tool',
  tenantId: null,
  serverId: 'demo',
  tool: null,
  per: 'user',
  points: 2,
  windowSeconds: 60,
  enabled: true,
  description: '',
  createdAt: new Date(),
  updatedAt: new Date(),
  ...over,
});

describe('inspectArguments', () => {
  it.each([
    [{ path: '../../etc/hosts' }, ['path-traversal']],
    [{ path: 'a/b/..' }, ['path-traversal']],
    [{ path: '..\\windows\\win.ini' }, ['path-traversal']],
    [{ path: '%2e%2e%2fsecret' }, ['encoded-traversal']],
    [{ path: '%252e%252e%252fsecret' }, ['encoded-traversal']],
    [{ path: '%c0%ae%c0%ae/x' }, ['encoded-traversal']],
    [{ name: 'file\u0000.txt' }, ['nul-byte']],
    [{ files: ['ok.txt', '/etc/passwd'] }, ['sensitive-file']],
    [{ deep: { er: [{ p: 'C:\\Users\\me\\.ssh\\id_rsa' }] } }, ['sensitive-file']],
  ])('finds %j', (args, rules) => {
    expect(inspectArguments(args).map((f) => f.rule)).toEqual(rules);
  });

  it('says where: a JSON path, keys included', () => {
    expect(inspectArguments({ files: ['ok', '../x'], 'we ird': { '../k': 1 } })).toEqual([
      { at: '$.files[1]', rule: 'path-traversal' },
      { at: '$["we ird"]["../k"]', rule: 'path-traversal' },
    ]);
  });

  it.each([{ path: 'docs/readme.md' }, { text: 'a...b, 1..2, v1.2..3' }, { url: 'https://example.test/a%20b' }, {}, undefined, 'plain', [1, 2, null]])(
    'finds nothing in %j',
    (args) => {
      expect(inspectArguments(args)).toEqual([]);
    },
  );

  it('does bounded work on huge or deep arguments', () => {
    let deep: unknown = '../x';
    for (let i = 0; i < 1000; i++) deep = { d: deep };
    expect(inspectArguments(deep)).toEqual([]);
    const wide = { items: Array.from({ length: 100_000 }, (_, i) => `item-${i}`) };
    const started = performance.now();
    inspectArguments(wide);
    expect(performance.now() - started).toBeLessThan(200);
  });
});

describe('tool rules', () => {
  it('match by server, tool (or any) and tenant (or any)', () => {
    const any = rule({ tool: null });
    const echo = rule({ tool: 'echo' });
    const acme = rule({ tool: 'echo', tenantId: 'acme', per: 'tenant' });
    const other = rule({ serverId: 'other' });
    const off = rule({ enabled: false });
    const index = indexToolRules([any, echo, acme, other, off]);
    expect(matchingRules(index, 'demo', 'echo', null).map((r) => r.id)).toEqual([any.id, echo.id]);
    expect(matchingRules(index, 'demo', 'echo', 'acme').map((r) => r.id)).toEqual([any.id, echo.id, acme.id]);
    expect(matchingRules(index, 'demo', 'add', 'acme').map((r) => r.id)).toEqual([any.id]);
    expect(matchingRules(index, 'nope', 'echo', null)).toEqual([]);
    expect(policyName(acme)).toBe('tool demo/echo per tenant for acme');
  });
});

describe('tool guard', () => {
  function guard(rules: RateLimitRule[]) {
    const events: SecurityEventInput[] = [];
    const index = indexToolRules(rules);
    const g = createToolGuard({
      rules: () => index,
      limiters: createRuleLimiters({ kind: 'tool-rule', logger: silentLogger(), keyPrefix: uniqueId('tl-') }),
      security: { record: (e) => events.push(e) },
    });
    return { g, events };
  }

  it('refuses the call over budget with a readable JSON-RPC error carrying the wait and the RateLimit values', async () => {
    const { g, events } = guard([rule({ tool: 'echo', points: 2, windowSeconds: 30 })]);
    const caller = { identity: testIdentity(), requestId: 'req-1' };
    await g.admit(caller, 'demo', 'echo', {});
    await g.admit(caller, 'demo', 'echo', {});
    const err = await g.admit(caller, 'demo', 'echo', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    const e = err as McpError;
    expect(e.code).toBe(-32029);
    expect(e.message).toMatch(/Rate limit exceeded \(tool demo\/echo per user\); retry after \d+ s/);
    expect(e.data).toMatchObject({
      retryAfter: expect.any(Number),
      violatedPolicies: ['tool demo/echo per user'],
      rateLimitPolicy: '"tool demo/echo per user";q=2;w=30',
      rateLimit: expect.stringMatching(/^"tool demo\/echo per user";r=0;t=\d+$/),
    });
    expect((e.data as { retryAfter: number }).retryAfter).toBeGreaterThanOrEqual(1);
    expect(events).toMatchObject([{ kind: 'rate-limited', reason: 'tool demo/echo per user', requestId: 'req-1' }]);
    // another user, another tool: their own budgets
    await g.admit({ identity: testIdentity(), requestId: 'r' }, 'demo', 'echo', {});
    await g.admit(caller, 'demo', 'add', {});
  });

  it('counts a per-tenant rule once for all users of the tenant', async () => {
    const { g } = guard([rule({ per: 'tenant', points: 2 })]);
    const a = { identity: testIdentity({ tenant: 'acme' }), requestId: 'a' };
    const b = { identity: testIdentity({ tenant: 'acme' }), requestId: 'b' };
    const c = { identity: testIdentity({ tenant: 'other' }), requestId: 'c' };
    await g.admit(a, 'demo', 'echo', {});
    await g.admit(b, 'demo', 'add', {});
    await expect(g.admit(a, 'demo', 'echo', {})).rejects.toBeInstanceOf(McpError);
    await g.admit(c, 'demo', 'echo', {});
  });

  it('records suspicious arguments as a security event and lets the call go on', async () => {
    const { g, events } = guard([]);
    await g.admit({ identity: testIdentity(), requestId: 'r-2' }, 'files', 'read', { path: '../../etc/passwd' });
    expect(events).toMatchObject([
      {
        kind: 'suspicious-tool-arguments',
        reason: 'path-traversal, sensitive-file',
        requestId: 'r-2',
        details: { serverId: 'files', tool: 'read', findings: [{ at: '$.path', rule: 'path-traversal' }, { at: '$.path', rule: 'sensitive-file' }] },
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('passwd'); // where and what kind, never the value
  });
});

describe('isJsonRpcMessage', () => {
  it.each([
    [{ jsonrpc: '2.0', id: 1, method: 'ping' }, true],
    [{ jsonrpc: '2.0', method: 'notifications/initialized' }, true],
    [{ jsonrpc: '2.0', id: 1, result: {} }, true],
    [[{ jsonrpc: '2.0', id: 1, method: 'ping' }], true],
    [{ id: 1, method: 'ping' }, false],
    [{ jsonrpc: '1.0', id: 1, method: 'ping' }, false],
    [[], false],
    ['ping', false],
    [{ jsonrpc: '2.0', id: 1 }, false],
  ])('%j → %s', (body, ok) => {
    expect(isJsonRpcMessage(body)).toBe(ok);
  });
});
