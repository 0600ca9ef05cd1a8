import { describe, expect, it } from 'vitest';
import type { Identity } from '@mcpgw/identity';
import type { Grant } from '@mcpgw/policy';
import { createSubjectResolver } from './subject.resolver.js';

function identity(groups: string[], extra: Partial<Identity> = {}): Identity {
  return {
    userId: 'u1', email: 'u1@example.test', name: 'U', groups, admin: false, tenant: null,
    authMethod: 'entra', allowServers: null, blockServers: [], ...extra,
  };
}

function countingSource(grants: Grant[]) {
  const calls: string[][] = [];
  return {
    calls,
    async grantsForGroups(names: readonly string[]) {
      calls.push([...names]);
      return grants;
    },
  };
}

const grant: Grant = { group: 'g1', serverId: 'demo', tools: ['*'], accessLevel: 'execute' };

describe('subject resolver', () => {
  it('builds the subject from the identity and the grants of its groups', async () => {
    const source = countingSource([grant]);
    const resolver = createSubjectResolver({ access: source, ttlMs: 5000 });
    const subject = await resolver.subjectFor(identity(['G1'], { admin: true, allowServers: ['demo'], blockServers: ['x'] }));
    expect(subject).toEqual({ admin: true, grants: [grant], allowServers: ['demo'], blockServers: ['x'] });
  });

  it('reuses grants for the same group list (any order, any case) until the TTL passes', async () => {
    let t = 0;
    const source = countingSource([grant]);
    const resolver = createSubjectResolver({ access: source, ttlMs: 5000, now: () => t });
    await resolver.subjectFor(identity(['A', 'b']));
    await resolver.subjectFor(identity(['B', 'a']));
    expect(source.calls).toHaveLength(1);
    t = 5001;
    await resolver.subjectFor(identity(['a', 'b']));
    expect(source.calls).toHaveLength(2);
  });

  it('asks every time when the TTL is 0, and never for a caller in no group', async () => {
    const source = countingSource([grant]);
    const resolver = createSubjectResolver({ access: source, ttlMs: 0 });
    await resolver.subjectFor(identity(['a']));
    await resolver.subjectFor(identity(['a']));
    expect((await resolver.subjectFor(identity([]))).grants).toEqual([]);
    expect(source.calls).toHaveLength(2);
  });

  it('does not cache a failed look-up', async () => {
    let fail = true;
    const resolver = createSubjectResolver({
      ttlMs: 5000,
      access: {
        async grantsForGroups() {
          if (fail) throw new Error('db down');
          return [grant];
        },
      },
    });
    await expect(resolver.subjectFor(identity(['a']))).rejects.toThrow('db down');
    fail = false;
    expect((await resolver.subjectFor(identity(['a']))).grants).toEqual([grant]);
  });
});
