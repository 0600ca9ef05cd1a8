import { describe, expect, it } from 'vitest';
import type { Subject } from '@mcpgw/policy';
import { visibilityOf } from './visibility.js';

const subject = (grants: Subject['grants'], extra: Partial<Subject> = {}): Subject => ({ admin: false, grants, allowServers: null, blockServers: [], ...extra });

describe('visibility fingerprint', () => {
  it('changes with the tools granted, and with the servers, but not with grant order', () => {
    const a = visibilityOf(subject([{ group: 'g', serverId: 's1', tools: ['x', 'y'], accessLevel: 'execute' }]), ['s1', 's2'], { kind: 'all' });
    const b = visibilityOf(subject([{ group: 'g', serverId: 's1', tools: ['y', 'x'], accessLevel: 'execute' }]), ['s2', 's1'], { kind: 'all' });
    expect(a).toEqual(b);
    const fewer = visibilityOf(subject([{ group: 'g', serverId: 's1', tools: ['x'], accessLevel: 'execute' }]), ['s1', 's2'], { kind: 'all' });
    expect(fewer.servers).toBe(a.servers);
    expect(fewer.tools).not.toBe(a.tools);
    const more = visibilityOf(subject([], { admin: true }), ['s1', 's2'], { kind: 'all' });
    expect(more.servers).toBe('s1,s2');
  });

  it('on /mcp/{server} only that server counts', () => {
    const s = subject([{ group: 'g', serverId: 's2', tools: ['*'], accessLevel: 'execute' }]);
    expect(visibilityOf(s, ['s1', 's2'], { kind: 'server', serverId: 's1' })).toEqual({ servers: '', tools: '' });
    expect(visibilityOf(s, ['s1', 's2'], { kind: 'server', serverId: 's2' })).toEqual({ servers: 's2', tools: 's2:*' });
  });
});
