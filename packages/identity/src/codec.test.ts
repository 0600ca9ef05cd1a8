import { describe, expect, it } from 'vitest';
import { HEADER, decodeIdentityHeaders, encodeIdentityHeaders, type Identity } from './index.js';

function identity(overrides: Partial<Identity> = {}): Identity {
  return {
    userId: 'u-123',
    email: 'ada@example.test',
    name: 'Ada Lovelace',
    groups: ['engineering'],
    admin: false,
    tenant: 'tenant-a',
    authMethod: 'apikey',
    allowServers: null,
    blockServers: [],
    ...overrides,
  };
}

const roundTrip = (id: Identity) => decodeIdentityHeaders(encodeIdentityHeaders(id, 'req-1'));

/** Header values must be visible ASCII (plus space/tab) to be sent at all. */
const VISIBLE_ASCII = /^[\x20-\x7e]*$/;

describe('encodeIdentityHeaders / decodeIdentityHeaders', () => {
  it('round-trips a full identity, non-ASCII and separator characters included', () => {
    const id = identity({
      userId: 'üser/42?x=1&y',
      email: 'zoë+tag@exämple.test',
      name: 'José Müller-Łukasiewicz 山田 🚀, Jr.',
      groups: ['Sales, EMEA', 'R&D team', 'Ünïcødé 组', '100% legit', 'a=b;c'],
      admin: true,
      tenant: 'Tenant Ä, Inc.',
      authMethod: 'entra',
      allowServers: ['srv,1', 'srv 2', 'sérv-3'],
      blockServers: ['blocked,one', 'blöcked two'],
    });
    const headers = encodeIdentityHeaders(id, 'req-1');
    for (const [name, value] of Object.entries(headers)) {
      expect(value, name).toMatch(VISIBLE_ASCII);
    }
    expect(decodeIdentityHeaders(headers)).toEqual(id);
  });

  it('keeps a comma inside a group name from splitting the group', () => {
    const decoded = roundTrip(identity({ groups: ['a,b', 'c'] }));
    expect(decoded?.groups).toEqual(['a,b', 'c']);
  });

  it('round-trips an empty group list and a single group', () => {
    expect(roundTrip(identity({ groups: [] }))?.groups).toEqual([]);
    expect(roundTrip(identity({ groups: ['only'] }))?.groups).toEqual(['only']);
  });

  it('round-trips tenant null (and a real tenant) as such', () => {
    expect(roundTrip(identity({ tenant: null }))?.tenant).toBeNull();
    expect(roundTrip(identity({ tenant: 't-1' }))?.tenant).toBe('t-1');
  });

  it('round-trips admin true and false', () => {
    expect(roundTrip(identity({ admin: true }))?.admin).toBe(true);
    expect(roundTrip(identity({ admin: false }))?.admin).toBe(false);
  });

  it('round-trips every auth method', () => {
    for (const m of ['entra', 'openwebui', 'apikey', 'm2m', 'local'] as const) {
      expect(roundTrip(identity({ authMethod: m }))?.authMethod).toBe(m);
    }
  });

  describe('allowServers: null (no narrowing) and [] (nothing allowed) stay distinct', () => {
    it('null is sent as an absent header and decodes to null', () => {
      const headers = encodeIdentityHeaders(identity({ allowServers: null }), 'r');
      expect(headers).not.toHaveProperty(HEADER.userAllowServers);
      expect(decodeIdentityHeaders(headers)?.allowServers).toBeNull();
    });

    it('[] is sent as a present, empty header and decodes to []', () => {
      const headers = encodeIdentityHeaders(identity({ allowServers: [] }), 'r');
      expect(headers[HEADER.userAllowServers]).toBe('');
      expect(decodeIdentityHeaders(headers)?.allowServers).toEqual([]);
    });

    it('a non-empty list decodes to the same list', () => {
      expect(roundTrip(identity({ allowServers: ['s1', 's2'] }))?.allowServers).toEqual(['s1', 's2']);
    });
  });

  it('round-trips blockServers, and an empty block list is omitted', () => {
    expect(roundTrip(identity({ blockServers: ['s1', 's 2'] }))?.blockServers).toEqual(['s1', 's 2']);
    const headers = encodeIdentityHeaders(identity({ blockServers: [] }), 'r');
    expect(headers).not.toHaveProperty(HEADER.userBlockServers);
    expect(decodeIdentityHeaders(headers)?.blockServers).toEqual([]);
  });

  it('writes the request id and the validated marker', () => {
    const headers = encodeIdentityHeaders(identity(), 'req-xyz');
    expect(headers[HEADER.requestId]).toBe('req-xyz');
    expect(headers[HEADER.gatewayValidated]).toBe('true');
  });

  describe('decode refuses incomplete or malformed input', () => {
    const good = () => encodeIdentityHeaders(identity(), 'r') as Record<string, string | string[] | undefined>;

    it('accepts the unmodified headers (control)', () => {
      expect(decodeIdentityHeaders(good())).not.toBeNull();
    });

    it('returns null without a user id, or with an empty one', () => {
      const h = good();
      delete h[HEADER.userId];
      expect(decodeIdentityHeaders(h)).toBeNull();
      expect(decodeIdentityHeaders({ ...good(), [HEADER.userId]: '' })).toBeNull();
    });

    it.each(['TRUE', 'yes', '1', '', 'true ', 'false,true'])('returns null for admin value %j', (v) => {
      expect(decodeIdentityHeaders({ ...good(), [HEADER.userAdmin]: v })).toBeNull();
    });

    it('returns null when the admin header is missing', () => {
      const h = good();
      delete h[HEADER.userAdmin];
      expect(decodeIdentityHeaders(h)).toBeNull();
    });

    it.each(['password', 'APIKEY', 'saml', ''])('returns null for auth method %j', (m) => {
      expect(decodeIdentityHeaders({ ...good(), [HEADER.authMethod]: m })).toBeNull();
    });

    it.each([
      [HEADER.userId, '%'],
      [HEADER.userName, 'bad%E0%A4%A'],
      [HEADER.userEmail, '%ZZ'],
      [HEADER.userGroups, 'ok,%C3'],
      [HEADER.userTenant, '%'],
      [HEADER.userAllowServers, '%FF'],
      [HEADER.userBlockServers, 'a,%'],
    ])('returns null for malformed percent-encoding in %s', (name, value) => {
      expect(decodeIdentityHeaders({ ...good(), [name]: value })).toBeNull();
    });

    it('returns null when a required header is repeated (array)', () => {
      expect(decodeIdentityHeaders({ ...good(), [HEADER.userId]: ['u1', 'u2'] })).toBeNull();
      expect(decodeIdentityHeaders({ ...good(), [HEADER.userAdmin]: ['false', 'true'] })).toBeNull();
      expect(decodeIdentityHeaders({ ...good(), [HEADER.authMethod]: ['apikey', 'apikey'] })).toBeNull();
    });
  });
});
