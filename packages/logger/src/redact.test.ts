import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, isSecretKey, redact } from './index.js';

const R = '[redacted]';
const MCPGW_KEY = `mcpgw_${'Zq9-_x'.repeat(7)}A`; // the real key shape: mcpgw_ + 43 base64url
const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1LTEiLCJhdWQiOiJtY3BndyJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtMTIzNDU2';

describe('isSecretKey', () => {
  it.each([
    'authorization',
    'Authorization',
    'proxy-authorization',
    'cookie',
    'set-cookie',
    'Cookie',
    'password',
    'newPassword',
    'db_passwd',
    'token',
    'accessToken',
    'refresh_token',
    'secret',
    'clientSecret',
    'GATEWAY_HMAC_SECRET',
    'apiKey',
    'api_key',
    'api-key',
    'x-api-key',
    'X-API-KEY',
    'apikey',
    'x-gateway-signature',
    'key',
    'tenant_key',
    'master-key',
    'tenantKey',
    'privateKey',
    'masterKey',
  ])('treats %s as secret', (k) => {
    expect(isSecretKey(k)).toBe(true);
  });

  it.each(['user', 'email', 'requestId', 'keyId', 'status', 'path', 'method', 'monkey', 'keyboard', 'prefix', 'x-request-id'])(
    'does not treat %s as secret',
    (k) => {
      expect(isSecretKey(k)).toBe(false);
    },
  );

  it('gives the same answer on repeated calls (no stateful regex)', () => {
    expect([1, 2, 3].map(() => isSecretKey('token'))).toEqual([true, true, true]);
  });
});

describe('redact: fields', () => {
  it('masks secret fields at the top level and leaves the rest', () => {
    expect(
      redact({ authorization: 'Basic dXNlcjpwYXNz', password: 'hunter2', user: 'ada', status: 200, ok: true }),
    ).toEqual({ authorization: R, password: R, user: 'ada', status: 200, ok: true });
  });

  it('masks secret fields at any depth, inside arrays too', () => {
    const input = {
      req: {
        headers: { 'x-api-key': 'k1', cookie: 'sid=abc', 'content-type': 'application/json' },
        body: { nested: { deeper: { clientSecret: 's3', apiKey: 'k2', token: 't1', name: 'n' } } },
      },
      list: [{ secret: 'x' }, { password: 'y', id: 1 }],
    };
    expect(redact(input)).toEqual({
      req: {
        headers: { 'x-api-key': R, cookie: R, 'content-type': 'application/json' },
        body: { nested: { deeper: { clientSecret: R, apiKey: R, token: R, name: 'n' } } },
      },
      list: [{ secret: R }, { password: R, id: 1 }],
    });
  });

  it('masks a secret field whatever its value type', () => {
    expect(redact({ token: 12345, secret: { a: 1 }, apiKey: ['x', 'y'], password: true })).toEqual({
      token: R,
      secret: R,
      apiKey: R,
      password: R,
    });
  });

  it('keeps empty or absent secret fields visibly empty (no secret to hide)', () => {
    expect(redact({ token: '', password: null, secret: undefined })).toEqual({ token: '', password: null, secret: undefined });
  });

  it('does not modify its input', () => {
    const input = { authorization: 'Bearer abcdef', nested: { password: 'p' } };
    redact(input);
    expect(input).toEqual({ authorization: 'Bearer abcdef', nested: { password: 'p' } });
  });

  it('passes primitives through', () => {
    expect(redact(42)).toBe(42);
    expect(redact(null)).toBeNull();
    expect(redact(undefined)).toBeUndefined();
    expect(redact(false)).toBe(false);
    expect(redact('plain text')).toBe('plain text');
  });
});

describe('redact: free text', () => {
  it.each([
    ['Bearer', `got Authorization: Bearer abc.DEF-123_~+/= from client`],
    ['lower-case bearer', `authorization: bearer abc.DEF-123_~+/=`],
    ['upper-case BEARER', `AUTHORIZATION: BEARER abc.DEF-123_~+/=`],
  ])('removes a %s token', (_label, text) => {
    const out = redact(text) as string;
    expect(out).not.toContain('abc.DEF-123');
    expect(out).toContain(R);
  });

  it('keeps the words around a bearer token', () => {
    expect(redact('before Bearer abcdefgh after')).toBe(`before Bearer ${R} after`);
  });

  it('removes mcpgw_ keys, keeping only the prefix', () => {
    const out = redact(`key ${MCPGW_KEY} rejected; retry with "${MCPGW_KEY}"`) as string;
    expect(out).not.toContain(MCPGW_KEY.slice(6));
    expect(out).toBe(`key mcpgw_${R} rejected; retry with "mcpgw_${R}"`);
  });

  it('removes an mcpgw_ key in a URL query string (A4)', () => {
    const out = redact(`GET /mcp?api_key=${MCPGW_KEY}&x=1`) as string;
    expect(out).not.toContain(MCPGW_KEY.slice(6));
  });

  it('removes JWT-looking strings', () => {
    const out = redact(`token was ${JWT}, expired`) as string;
    expect(out).not.toContain('eyJhbGci');
    expect(out).not.toContain('c2lnbmF0dXJl');
    expect(out).toBe(`token was ${R}, expired`);
  });

  it('removes secrets inside strings nested in objects and arrays, under innocent keys', () => {
    const out = redact({ msg: `Bearer ${JWT}`, notes: [`key=${MCPGW_KEY}`], deep: { a: { b: JWT } } });
    const text = JSON.stringify(out);
    expect(text).not.toContain('eyJhbGci');
    expect(text).not.toContain(MCPGW_KEY.slice(6));
  });

  it('leaves ordinary text alone', () => {
    const text = 'user ada called tools/list on srv-a in 12 ms (mcpgw gateway, eyJ is not a token)';
    expect(redact(text)).toBe(text);
  });
});

describe('redact: errors', () => {
  it('keeps name, masks secrets in message and stack', () => {
    const err = new TypeError(`upstream said 401 for Bearer ${JWT} using ${MCPGW_KEY}`);
    const out = redact(err) as { name: string; message: string; stack: string };
    expect(out.name).toBe('TypeError');
    expect(out.message).toContain('upstream said 401');
    expect(out.stack).toContain('TypeError');
    const text = JSON.stringify(out);
    expect(text).not.toContain('eyJhbGci');
    expect(text).not.toContain(MCPGW_KEY.slice(6));
  });

  it('masks errors nested in objects', () => {
    const out = redact({ err: new Error(`bad key ${MCPGW_KEY}`) });
    expect(JSON.stringify(out)).not.toContain(MCPGW_KEY.slice(6));
    expect(JSON.stringify(out)).toContain('bad key');
  });

  it('does not copy arbitrary error properties (which may hold request config)', () => {
    const err = Object.assign(new Error('boom'), { config: { headers: { Authorization: 'Basic c2VjcmV0' } } });
    expect(JSON.stringify(redact(err))).not.toContain('c2VjcmV0');
  });
});

describe('redact: shape limits', () => {
  it('handles a cycle without throwing and marks it', () => {
    const a: Record<string, unknown> = { name: 'a', password: 'p' };
    a.self = a;
    const b: Record<string, unknown> = { parent: a };
    a.child = b;
    const out = redact(a) as Record<string, unknown>;
    expect(out.self).toBe('[cycle]');
    expect((out.child as Record<string, unknown>).parent).toBe('[cycle]');
    expect(out.password).toBe(R);
    expect(() => JSON.stringify(out)).not.toThrow();
  });

  it('handles a cyclic array', () => {
    const arr: unknown[] = ['x'];
    arr.push(arr);
    expect(redact(arr)).toEqual(['x', '[cycle]']);
  });

  it('cuts very deep structures', () => {
    let deep: Record<string, unknown> = { token: 'deepest' };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    const text = JSON.stringify(redact(deep));
    expect(text).toContain('[depth]');
    expect(text).not.toContain('deepest');
  });
});

describe('createLogger (C7)', () => {
  function capture() {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    return { lines, stream };
  }

  it('writes JSON lines with timestamp, level, service and message', () => {
    const { lines, stream } = capture();
    createLogger({ service: 'svc-test', stream }).info('hello', { requestId: 'r-1' });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'info', service: 'svc-test', message: 'hello', requestId: 'r-1' });
    expect(Number.isNaN(Date.parse(line.timestamp))).toBe(false);
  });

  it('drops records below the level', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 's', stream, level: 'warn' });
    logger.info('quiet');
    logger.debug('quieter');
    logger.warn('loud');
    expect(lines.map((l) => JSON.parse(l).message)).toEqual(['loud']);
  });

  it('leaks no planted canary: key in the message, bearer in headers, key in an error', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 'canary', stream, level: 'debug' });
    const key = `mcpgw_CANARY${'k'.repeat(37)}`; // 43 characters after the prefix
    const bearer = 'CANARYbearerTOKEN0123456789';
    const jwt = `eyJCANARYhdr.eyJCANARYbody.CANARYsig`;

    logger.info(`request with key ${key} refused`, {
      headers: { authorization: `Bearer ${bearer}`, cookie: 'sid=CANARYcookie', 'x-api-key': key, accept: '*/*' },
      apiKey: key,
      upstream: { tenantKey: 'CANARYtenant', note: `forwarded Bearer ${bearer}` },
    });
    logger.warn('jwt failed', { detail: `token ${jwt}` });
    logger.info('login', { user: 'ada', password: 'CANARYpassword', authorization: 'Basic CANARYbasic', tenantKey: 'CANARYtk' });
    logger.error('call failed', { err: new Error(`401 with ${key} and bearer ${bearer}`) });
    logger.error(`plain message with authorization: Bearer ${bearer}`);

    expect(lines).toHaveLength(5);
    const all = lines.join('\n');
    expect(all).not.toContain('CANARY');
    // still useful: the non-secret parts are there
    expect(all).toContain('request with key mcpgw_');
    expect(all).toContain('refused');
    expect(JSON.parse(lines[0]!).headers.accept).toBe('*/*');
    expect(JSON.parse(lines[2]!)).toMatchObject({ user: 'ada', password: '[redacted]', authorization: '[redacted]' });
  });

  it('masks secret fields given at the top level of a record by name, whatever their value looks like', () => {
    const { lines, stream } = capture();
    createLogger({ service: 's', stream }).info('login', { user: 'ada', password: 'hunter2', token: 'opaque', apiKey: 'k' });
    expect(JSON.parse(lines[0]!)).toMatchObject({ user: 'ada', password: R, token: R, apiKey: R });
    expect(lines[0]).not.toContain('hunter2');
  });

  it('masks secret fields of a child logger\'s metadata', () => {
    const { lines, stream } = capture();
    createLogger({ service: 's', stream }).child({ sessionToken: 'CANARYchild' }).info('m');
    expect(lines[0]).not.toContain('CANARY');
  });

  it('masks an Error passed as the metadata argument', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ service: 's', stream });
    logger.error('failed:', new Error(`with Bearer CANARY${'x'.repeat(10)}`));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('CANARY');
  });

  it('logs a cyclic object without throwing', () => {
    const { lines, stream } = capture();
    const obj: Record<string, unknown> = { a: 1 };
    obj.me = obj;
    createLogger({ service: 's', stream }).info('cyclic', { obj });
    expect(JSON.parse(lines[0]!).obj).toEqual({ a: 1, me: '[cycle]' });
  });

});
