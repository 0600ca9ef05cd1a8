import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  HEADER,
  SIGNED_HEADERS,
  canonicalString,
  decodeIdentityHeaders,
  encodeIdentityHeaders,
  signIdentity,
  verifyIdentity,
  type Identity,
} from './index.js';

type Bag = Record<string, string | string[] | undefined>;

const SECRET = 'current-secret-0123456789abcdef0123456789';
const PREVIOUS = 'previous-secret-0123456789abcdef012345678';
const OTHER = 'someone-elses-secret-0123456789abcdef01234';
const NOW = 1_750_000_000_000;
const MAX_AGE = 30_000;
const METHOD = 'POST';
const PATH = '/mcp?session=1';

const ID: Identity = {
  userId: 'u-1',
  email: 'ada@example.test',
  name: 'Ada',
  groups: ['eng', 'ops'],
  admin: false,
  tenant: 't-1',
  authMethod: 'apikey',
  allowServers: ['srv-a', 'srv-b'],
  blockServers: ['srv-x', 'srv-y'],
};

function signed(opts: { secret?: string; identity?: Identity; at?: number } = {}): Bag {
  const headers = encodeIdentityHeaders(opts.identity ?? ID, 'req-1');
  return signIdentity(opts.secret ?? SECRET, METHOD, PATH, headers, opts.at ?? NOW);
}

const verify = (headers: Bag, o: { secrets?: string[]; method?: string; path?: string; now?: number } = {}) =>
  verifyIdentity(o.secrets ?? [SECRET], o.method ?? METHOD, o.path ?? PATH, headers, MAX_AGE, o.now ?? NOW);

describe('signIdentity', () => {
  it('adds a timestamp and a v1 signature and keeps the identity headers', () => {
    const headers = signed();
    expect(headers[HEADER.gatewayTimestamp]).toBe(String(NOW));
    expect(headers[HEADER.gatewaySignature]).toMatch(/^v1=[A-Za-z0-9_-]{43}$/);
    expect(headers[HEADER.userId]).toBe('u-1');
  });

  it('signs the canonical string with HMAC-SHA256', () => {
    const headers = signed();
    const mac = createHmac('sha256', SECRET)
      .update(canonicalString(METHOD, PATH, String(NOW), headers))
      .digest('base64url');
    expect(headers[HEADER.gatewaySignature]).toBe(`v1=${mac}`);
  });

  it('gives different signatures for different timestamps', () => {
    expect(signed({ at: NOW })[HEADER.gatewaySignature]).not.toBe(signed({ at: NOW + 1 })[HEADER.gatewaySignature]);
  });
});

describe('verifyIdentity', () => {
  it('accepts a freshly signed request, and the identity decodes unchanged', () => {
    const headers = signed();
    expect(verify(headers)).toEqual({ ok: true });
    expect(decodeIdentityHeaders(headers)).toEqual(ID);
  });

  it('accepts a lower-case method against an upper-case signature (method is case-normalised)', () => {
    expect(verify(signed(), { method: 'post' })).toEqual({ ok: true });
  });

  describe('missing', () => {
    it('without a signature', () => {
      const h = signed();
      delete h[HEADER.gatewaySignature];
      expect(verify(h)).toEqual({ ok: false, reason: 'missing' });
    });

    it('without a timestamp', () => {
      const h = signed();
      delete h[HEADER.gatewayTimestamp];
      expect(verify(h)).toEqual({ ok: false, reason: 'missing' });
    });

    it('with no gateway headers at all', () => {
      expect(verify(encodeIdentityHeaders(ID, 'r'))).toEqual({ ok: false, reason: 'missing' });
    });
  });

  describe('malformed', () => {
    it.each(['abc', '', '12.5', '-1', '1e12', ' 1750000000000', '0x1'])('timestamp %j', (ts) => {
      expect(verify({ ...signed(), [HEADER.gatewayTimestamp]: ts })).toEqual({ ok: false, reason: 'malformed' });
    });

    it.each(['v2=', 'V1=', 'v1', 'sha256=', ''])('signature with prefix %j instead of v1=', (prefix) => {
      const h = signed();
      const mac = String(h[HEADER.gatewaySignature]).slice(3);
      expect(verify({ ...h, [HEADER.gatewaySignature]: prefix + mac })).toEqual({ ok: false, reason: 'malformed' });
    });

    it('x-gateway-validated absent', () => {
      const h = signed();
      delete h[HEADER.gatewayValidated];
      expect(verify(h)).toEqual({ ok: false, reason: 'malformed' });
    });

    it('x-gateway-validated not "true"', () => {
      expect(verify({ ...signed(), [HEADER.gatewayValidated]: 'false' })).toEqual({ ok: false, reason: 'malformed' });
    });

    it('repeated signature or timestamp headers', () => {
      const h = signed();
      const sig = String(h[HEADER.gatewaySignature]);
      expect(verify({ ...h, [HEADER.gatewaySignature]: [sig, sig] })).toEqual({ ok: false, reason: 'malformed' });
      expect(verify({ ...h, [HEADER.gatewayTimestamp]: [String(NOW), String(NOW)] })).toEqual({
        ok: false,
        reason: 'malformed',
      });
    });
  });

  describe('stale', () => {
    it('accepts exactly maxAge old and maxAge ahead (the window is inclusive)', () => {
      expect(verify(signed({ at: NOW - MAX_AGE }))).toEqual({ ok: true });
      expect(verify(signed({ at: NOW + MAX_AGE }))).toEqual({ ok: true });
    });

    it('refuses a signature older than maxAge (replay)', () => {
      expect(verify(signed({ at: NOW - MAX_AGE - 1 }))).toEqual({ ok: false, reason: 'stale' });
      expect(verify(signed({ at: NOW - 10 * 60_000 }))).toEqual({ ok: false, reason: 'stale' });
    });

    it('refuses a signature dated further than maxAge in the future', () => {
      expect(verify(signed({ at: NOW + MAX_AGE + 1 }))).toEqual({ ok: false, reason: 'stale' });
      expect(verify(signed({ at: NOW + 10 * 60_000 }))).toEqual({ ok: false, reason: 'stale' });
    });

    it('uses the verifier clock: the same headers go stale as time passes', () => {
      const h = signed();
      expect(verify(h, { now: NOW + MAX_AGE })).toEqual({ ok: true });
      expect(verify(h, { now: NOW + MAX_AGE + 1 })).toEqual({ ok: false, reason: 'stale' });
    });
  });

  describe('mismatch', () => {
    it.each(SIGNED_HEADERS.filter((h) => h !== HEADER.gatewayValidated))('when %s changes after signing', (name) => {
      const h = signed();
      const before = h[name];
      h[name] = `${before ?? ''}x`;
      expect(verify(h)).toEqual({ ok: false, reason: 'mismatch' });
    });

    it.each([...SIGNED_HEADERS])(
      'when %s is removed after signing',
      (name) => {
        const h = signed();
        delete h[name];
        const result = verify(h);
        // Removing a header must never leave a valid signature behind.
        expect(result.ok).toBe(false);
      },
    );

    it('when admin is flipped to true', () => {
      expect(verify({ ...signed(), [HEADER.userAdmin]: 'true' })).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('when a group is added (valid signature but modified groups, H2)', () => {
      expect(verify({ ...signed(), [HEADER.userGroups]: 'eng,ops,admins' })).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('when the method changes', () => {
      expect(verify(signed(), { method: 'GET' })).toEqual({ ok: false, reason: 'mismatch' });
      expect(verify(signed(), { method: 'DELETE' })).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('when the path or query changes', () => {
      expect(verify(signed(), { path: '/mcp' })).toEqual({ ok: false, reason: 'mismatch' });
      expect(verify(signed(), { path: '/mcp?session=2' })).toEqual({ ok: false, reason: 'mismatch' });
      expect(verify(signed(), { path: '/admin/mcp?session=1' })).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('when the timestamp is moved (still inside the window)', () => {
      expect(verify({ ...signed(), [HEADER.gatewayTimestamp]: String(NOW - 1) })).toEqual({
        ok: false,
        reason: 'mismatch',
      });
    });

    it('when the signature bytes are altered or truncated', () => {
      const h = signed();
      const sig = String(h[HEADER.gatewaySignature]);
      const last = sig.at(-2) === 'A' ? 'B' : 'A';
      expect(verify({ ...h, [HEADER.gatewaySignature]: sig.slice(0, -2) + last + sig.at(-1) })).toEqual({
        ok: false,
        reason: 'mismatch',
      });
      expect(verify({ ...h, [HEADER.gatewaySignature]: sig.slice(0, 20) })).toEqual({ ok: false, reason: 'mismatch' });
      expect(verify({ ...h, [HEADER.gatewaySignature]: 'v1=' })).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('for a signature made with a different secret', () => {
      expect(verify(signed({ secret: OTHER }))).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('with an empty list of accepted secrets', () => {
      expect(verify(signed(), { secrets: [] })).toEqual({ ok: false, reason: 'mismatch' });
    });
  });

  describe('secret rotation', () => {
    it('accepts a signature made with the previous secret when it is in the list', () => {
      expect(verify(signed({ secret: PREVIOUS }), { secrets: [SECRET, PREVIOUS] })).toEqual({ ok: true });
    });

    it('accepts the current secret while a previous one is still listed', () => {
      expect(verify(signed({ secret: SECRET }), { secrets: [SECRET, PREVIOUS] })).toEqual({ ok: true });
    });

    it('refuses the previous secret once it is retired from the list', () => {
      expect(verify(signed({ secret: PREVIOUS }), { secrets: [SECRET] })).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('refuses a secret that is in neither slot', () => {
      expect(verify(signed({ secret: OTHER }), { secrets: [SECRET, PREVIOUS] })).toEqual({
        ok: false,
        reason: 'mismatch',
      });
    });
  });

  describe('the decoded identity is exactly what was signed', () => {
    it('removing an empty allow list (nothing allowed) does not turn it into "no narrowing"', () => {
      const h = signed({ identity: { ...ID, allowServers: [] } });
      expect(verify(h)).toEqual({ ok: true });
      expect(decodeIdentityHeaders(h)?.allowServers).toEqual([]);
      delete h[HEADER.userAllowServers];
      expect(verify(h)).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('adding an empty allow list to a request signed without narrowing is refused', () => {
      const h = signed({ identity: { ...ID, allowServers: null } });
      expect(verify(h)).toEqual({ ok: true });
      h[HEADER.userAllowServers] = '';
      expect(verify(h)).toEqual({ ok: false, reason: 'mismatch' });
    });

    it('a tenant-less identity verifies and decodes with tenant null', () => {
      const h = signed({ identity: { ...ID, tenant: null } });
      expect(verify(h)).toEqual({ ok: true });
      expect(decodeIdentityHeaders(h)?.tenant).toBeNull();
    });

    it.each([HEADER.userAllowServers, HEADER.userBlockServers, HEADER.userGroups, HEADER.userId])(
      'splitting %s into repeated headers is refused, not read differently',
      (name) => {
        const h = signed();
        const value = String(h[name]);
        const parts = value.includes(',') ? value.split(',') : [value, ''];
        h[name] = parts;
        expect(verify(h)).toEqual({ ok: false, reason: 'malformed' });
      },
    );
  });
});

describe('canonicalString', () => {
  const base = { [HEADER.userId]: 'u', [HEADER.gatewayValidated]: 'true' };

  it('starts with version, timestamp, upper-cased method and path, one per line', () => {
    const lines = canonicalString('get', '/p?q=1', '123', base).split('\n');
    expect(lines.slice(0, 4)).toEqual(['v1', '123', 'GET', '/p?q=1']);
    expect(lines).toHaveLength(4 + SIGNED_HEADERS.length);
  });

  it('lists the signed headers in the fixed order, whatever the order of the input', () => {
    const a = canonicalString('GET', '/', '1', { [HEADER.userName]: 'n', [HEADER.userId]: 'u' });
    const b = canonicalString('GET', '/', '1', { [HEADER.userId]: 'u', [HEADER.userName]: 'n' });
    expect(a).toBe(b);
    const names = a.split('\n').slice(4).map((l) => l.replace(/[:!].*$/, ''));
    expect(names).toEqual([...SIGNED_HEADERS]);
  });

  it('ignores headers outside the signed set', () => {
    expect(canonicalString('GET', '/', '1', { ...base, 'x-other': 'zzz' })).toBe(canonicalString('GET', '/', '1', base));
  });

  it('distinguishes an absent header from an empty one', () => {
    expect(canonicalString('GET', '/', '1', { ...base, [HEADER.userAllowServers]: '' })).not.toBe(
      canonicalString('GET', '/', '1', base),
    );
  });
});
