import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeIdentityHeaders, encodeIdentityHeaders, HEADER, SIGNED_HEADERS, signIdentity, verifyIdentity, type Identity } from './index.js';
import { AUTH_METHODS } from './identity.js';

/**
 * Issue 9 item 8, property-based: the identity header codec and the gateway signature. Random
 * identities survive encode → sign → verify → decode unchanged; random or altered header sets never
 * verify; nothing here throws, whatever the headers. Bounded: a few hundred runs per property.
 */
const SECRET = 'fuzz-secret-0123456789abcdef0123456789';
const NOW = 1_800_000_000_000;
const MAX_AGE = 30_000;
const RUNS = { numRuns: 300, interruptAfterTimeLimit: 4_000 };

/** Any text, lone surrogates and control characters included (names come from IdP claims). */
const text = fc.string({ unit: 'binary', maxLength: 40 });
const nonEmpty = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 });
const identity: fc.Arbitrary<Identity> = fc.record({
  userId: nonEmpty,
  email: text,
  name: text,
  groups: fc.array(nonEmpty, { maxLength: 5 }),
  admin: fc.boolean(),
  tenant: fc.option(nonEmpty, { nil: null }),
  authMethod: fc.constantFrom(...AUTH_METHODS),
  allowServers: fc.option(fc.array(nonEmpty, { maxLength: 3 }), { nil: null }),
  blockServers: fc.array(nonEmpty, { maxLength: 3 }),
});
const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT');
const path = fc.webPath().map((p) => `/mcp${p}`);

/** Lone surrogates cannot be sent as UTF-8: they arrive as U+FFFD, as Postgres would store them. */
const LONE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const wellFormed = (s: string) => s.replace(LONE, '\uFFFD');
const asDelivered = (i: Identity): Identity => ({
  ...i,
  userId: wellFormed(i.userId),
  email: wellFormed(i.email),
  name: wellFormed(i.name),
  groups: i.groups.map(wellFormed),
  tenant: i.tenant === null ? null : wellFormed(i.tenant),
  allowServers: i.allowServers === null ? null : i.allowServers.map(wellFormed),
  blockServers: i.blockServers.map(wellFormed),
});

describe('identity headers (fuzz)', () => {
  it('encode never throws, and what the gateway signs verifies and decodes to the same identity', () => {
    fc.assert(
      fc.property(identity, method, path, (id, m, p) => {
        const headers = encodeIdentityHeaders(id, 'req-1');
        for (const v of Object.values(headers)) expect(v).toMatch(/^[\x21-\x7e]*$/);
        const signed = signIdentity(SECRET, m, p, headers, NOW);
        expect(verifyIdentity([SECRET], m, p, signed, MAX_AGE, NOW)).toEqual({ ok: true });
        expect(decodeIdentityHeaders(signed)).toEqual(asDelivered(id));
      }),
      RUNS,
    );
  });

  it('random header sets never verify and never throw', () => {
    const anyValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), fc.constant(undefined));
    const names = fc.constantFrom(...SIGNED_HEADERS, HEADER.gatewayTimestamp, HEADER.gatewaySignature, 'x-other');
    const bag = fc.dictionary(names, anyValue, { maxKeys: 14 });
    const timestamp = fc.oneof(fc.integer({ min: NOW - 60_000, max: NOW + 60_000 }).map(String), fc.string({ maxLength: 20 }));
    const signature = fc.oneof(fc.base64String({ maxLength: 64 }).map((s) => `v1=${s}`), fc.string({ maxLength: 70 }));
    fc.assert(
      fc.property(bag, timestamp, signature, method, path, (h, ts, sig, m, p) => {
        const headers: Record<string, string | string[] | undefined> = { ...h, [HEADER.gatewayTimestamp]: ts, [HEADER.gatewaySignature]: sig };
        const result = verifyIdentity([SECRET, 'previous-secret-0123456789abcdef0123'], m, p, headers, MAX_AGE, NOW);
        expect(result.ok).toBe(false);
        expect(() => decodeIdentityHeaders(headers)).not.toThrow();
        expect(() => decodeIdentityHeaders(h)).not.toThrow();
      }),
      RUNS,
    );
  });

  it('any change to a signed request (a header, method, path, time within the window, signature) fails verification', () => {
    const change = fc.oneof(
      fc.record({ kind: fc.constant('header' as const), name: fc.constantFrom(...SIGNED_HEADERS), value: fc.option(fc.string({ unit: 'binary-ascii', maxLength: 20 }), { nil: undefined }) }),
      fc.record({ kind: fc.constant('method' as const), value: method }),
      fc.record({ kind: fc.constant('path' as const), value: path }),
      fc.record({ kind: fc.constant('time' as const), value: fc.integer({ min: -MAX_AGE, max: MAX_AGE }).filter((d) => d !== 0) }),
      fc.record({ kind: fc.constant('signature' as const), value: fc.nat() }),
    );
    fc.assert(
      fc.property(identity, method, path, change, (id, m, p, c) => {
        const headers: Record<string, string | undefined> = signIdentity(SECRET, m, p, encodeIdentityHeaders(id, 'req-1'), NOW);
        let vm = m;
        let vp = p;
        if (c.kind === 'header') {
          fc.pre(headers[c.name] !== c.value);
          headers[c.name] = c.value;
        } else if (c.kind === 'method') {
          fc.pre(c.value !== m);
          vm = c.value;
        } else if (c.kind === 'path') {
          fc.pre(c.value !== p);
          vp = c.value;
        } else if (c.kind === 'time') {
          headers[HEADER.gatewayTimestamp] = String(NOW + c.value);
        } else {
          const mac = Buffer.from(headers[HEADER.gatewaySignature]!.slice(3), 'base64url');
          mac[c.value % mac.length]! ^= 1 << c.value % 8;
          headers[HEADER.gatewaySignature] = `v1=${mac.toString('base64url')}`;
        }
        expect(verifyIdentity([SECRET], vm, vp, headers, MAX_AGE, NOW).ok).toBe(false);
      }),
      RUNS,
    );
  });

  it('a signature made with another secret never verifies', () => {
    fc.assert(
      fc.property(identity, fc.string({ minLength: 1, maxLength: 64 }), method, path, (id, other, m, p) => {
        fc.pre(other !== SECRET);
        const headers = signIdentity(other, m, p, encodeIdentityHeaders(id, 'req-1'), NOW);
        expect(verifyIdentity([SECRET], m, p, headers, MAX_AGE, NOW)).toEqual({ ok: false, reason: 'mismatch' });
      }),
      RUNS,
    );
  });
});
