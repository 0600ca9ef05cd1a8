import { describe, expect, it } from 'vitest';
import type { Request } from 'express';
import { readCredential, readCookie, withoutCookies } from './credentials.js';
import { mcpResourcePath } from './discovery.js';
import { hasGroupOverage, isAppOnly } from './entra-token.verifier.js';
import { audienceCovers } from './gateway-token.verifier.js';
import { narrowServers } from './identity.resolver.js';

const req = (headers: Record<string, string>, url = '/mcp') => ({ headers, originalUrl: url }) as unknown as Request;

describe('narrowServers: block wins, a credential narrows and never widens', () => {
  it.each([
    [{ allowServers: null, blockServers: [] }, { allowServers: null, blockServers: [] }, { allowServers: null, blockServers: [] }],
    [{ allowServers: null, blockServers: [] }, { allowServers: ['a'], blockServers: [] }, { allowServers: ['a'], blockServers: [] }],
    [{ allowServers: ['a', 'b'], blockServers: [] }, { allowServers: null, blockServers: [] }, { allowServers: ['a', 'b'], blockServers: [] }],
    [{ allowServers: ['a', 'b'], blockServers: [] }, { allowServers: ['b', 'c'], blockServers: [] }, { allowServers: ['b'], blockServers: [] }],
    [{ allowServers: ['a'], blockServers: [] }, { allowServers: ['c'], blockServers: [] }, { allowServers: [], blockServers: [] }],
    [{ allowServers: null, blockServers: ['x'] }, { allowServers: null, blockServers: ['y', 'x'] }, { allowServers: null, blockServers: ['x', 'y'] }],
  ] as const)('user %j + credential %j → %j', (user, credential, expected) => {
    expect(narrowServers(user, credential)).toEqual(expected);
  });
});

describe('audienceCovers (gateway tokens)', () => {
  const iss = 'https://gw.example';
  it.each([
    [[iss], '/mcp-admin/api/me', true],
    [[`${iss}/mcp`], '/mcp', true],
    [[`${iss}/mcp`], '/mcp/github', true],
    [[`${iss}/mcp/github`], '/mcp/github', true],
    [[`${iss}/mcp/github`], '/mcp/github/x', true],
    [[`${iss}/mcp/github`], '/mcp/githubx', false],
    [[`${iss}/mcp/github`], '/mcp', false],
    [[`${iss}/mcp`], '/mcp-admin/api/me', false],
    [['https://gw.example.evil'], '/mcp', false],
    [['https://other.example'], '/mcp', false],
    [[], '/mcp', false],
  ] as const)('%j on %s → %s', (aud, path, expected) => {
    expect(audienceCovers(aud, iss, path)).toBe(expected);
  });
});

describe('mcpResourcePath', () => {
  it.each([
    ['/mcp', '/mcp'],
    ['/mcp/github', '/mcp/github'],
    ['/mcp/github/sse', '/mcp/github'],
    ['/mcp-admin', null],
    ['/servers', null],
    ['/mcp/Bad_Name', null],
    ['/mcpx', null],
  ])('%s → %s', (path, expected) => {
    expect(mcpResourcePath(path)).toBe(expected);
  });
});

describe('readCredential: the credential shape picks the authenticator', () => {
  const key = `mcpgw_${'A'.repeat(43)}`;
  it.each([
    [{}, { kind: 'none' }],
    [{ authorization: `Bearer ${key}` }, { kind: 'api-key', value: key }],
    [{ 'x-api-key': key }, { kind: 'api-key', value: key }],
    [{ 'x-api-key': 'sk-abc' }, { kind: 'openwebui-key', value: 'sk-abc' }],
    [{ authorization: 'Bearer sk-abcdef' }, { kind: 'openwebui-key', value: 'sk-abcdef' }],
    [{ authorization: 'Bearer a.b.c' }, { kind: 'jwt', value: 'a.b.c', from: 'header' }],
    [{ authorization: 'Bearer a.b.' }, { kind: 'jwt', value: 'a.b.', from: 'header' }],
    [{ authorization: 'Basic dXNlcjpwYXNz' }, { kind: 'malformed' }],
    [{ authorization: 'Bearer a.b' }, { kind: 'malformed' }],
    [{ authorization: 'Bearer' }, { kind: 'malformed' }],
    [{ cookie: 'theme=dark; token=x.y.z' }, { kind: 'jwt', value: 'x.y.z', from: 'cookie' }],
    [{ cookie: `token=${key}` }, { kind: 'malformed' }],
    [{ cookie: 'token=a.b.c; token=d.e.f' }, { kind: 'none' }],
    [{ cookie: 'token=%E0%A4%A' }, { kind: 'malformed' }],
    [{ authorization: 'Bearer a.b.c', cookie: 'token=x.y.z' }, { kind: 'jwt', value: 'a.b.c', from: 'header' }],
    [{ cookie: 'token=x.y.z', 'sec-fetch-site': 'same-origin' }, { kind: 'jwt', value: 'x.y.z', from: 'cookie' }],
    [{ cookie: 'token=x.y.z', 'sec-fetch-site': 'cross-site' }, { kind: 'none' }],
    [{ cookie: 'token=x.y.z', 'sec-fetch-site': 'same-site' }, { kind: 'none' }],
    [{ authorization: 'Bearer a.b.c', 'sec-fetch-site': 'cross-site' }, { kind: 'jwt', value: 'a.b.c', from: 'header' }],
  ])('%j → %j', (headers, expected) => {
    expect(readCredential(req(headers as Record<string, string>))).toEqual(expected);
  });

  it('refuses credentials in the query string, whatever the headers', () => {
    expect(readCredential(req({ authorization: `Bearer ${key}` }, '/mcp?access_token=x'))).toEqual({ kind: 'in-url' });
    expect(readCredential(req({}, '/mcp?foo=1&client_secret=x'))).toEqual({ kind: 'in-url' });
  });

  it('refuses a token longer than 16 KiB as malformed', () => {
    expect(readCredential(req({ authorization: `Bearer ${'a'.repeat(9000)}.${'b'.repeat(9000)}.c` }))).toEqual({ kind: 'malformed' });
  });
});

describe('cookies', () => {
  it('reads one cookie and removes credential cookies only', () => {
    expect(readCookie('a=1; token=t; b=2', 'token')).toBe('t');
    expect(readCookie('mytoken=t', 'token')).toBeUndefined();
    expect(withoutCookies('a=1; token=t; b=2', ['token'])).toBe('a=1; b=2');
    expect(withoutCookies('token=t', ['token'])).toBeUndefined();
    expect(withoutCookies(undefined, ['token'])).toBeUndefined();
  });
});

describe('Entra token kinds', () => {
  it.each([
    [{ idtyp: 'app', azp: 'x' }, true],
    [{ azp: 'x', roles: ['r'] }, true],
    [{ appid: 'x', roles: [] }, true],
    [{ azp: 'x', scp: 'access_as_user' }, false],
    [{ azp: 'x', preferred_username: 'a@b' }, false],
    [{ idtyp: 'user', azp: 'x' }, false],
    [{ name: 'Ada', preferred_username: 'a@b' }, false],
  ])('%j is app-only: %s', (claims, expected) => {
    expect(isAppOnly(claims)).toBe(expected);
  });

  it.each([
    [{ groups: ['g'] }, false],
    [{}, false],
    [{ hasgroups: true }, true],
    [{ _claim_names: { groups: 'src1' } }, true],
    [{ _claim_names: { other: 'src1' } }, false],
  ])('%j has group overage: %s', (claims, expected) => {
    expect(hasGroupOverage(claims)).toBe(expected);
  });
});
