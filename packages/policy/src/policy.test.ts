import { describe, expect, it } from 'vitest';
import { allowedTools, decideServer, decideTool, type Grant, type Subject } from './index.js';

const grant = (group: string, serverId: string, tools: string[]): Grant => ({ group, serverId, tools, accessLevel: 'use' });

function subject(overrides: Partial<Subject> = {}): Subject {
  return { admin: false, grants: [], allowServers: null, blockServers: [], ...overrides };
}

const names = (v: 'all' | ReadonlySet<string>) => (v === 'all' ? 'all' : [...v].sort());

describe('admin', () => {
  const admin = subject({ admin: true });

  it('may use every server and tool without any grant', () => {
    expect(decideServer(admin, 'srv-a')).toEqual({ allow: true, reason: 'admin' });
    expect(decideTool(admin, 'srv-a', 'anything')).toEqual({ allow: true, reason: 'admin' });
    expect(allowedTools(admin, 'srv-a')).toBe('all');
  });

  it('is still narrowed by the key block list (block wins over admin)', () => {
    const s = subject({ admin: true, blockServers: ['srv-a'] });
    expect(decideServer(s, 'srv-a')).toEqual({ allow: false, reason: 'blocked-by-key' });
    expect(decideTool(s, 'srv-a', 'x')).toEqual({ allow: false, reason: 'blocked-by-key' });
    expect(names(allowedTools(s, 'srv-a'))).toEqual([]);
    expect(decideServer(s, 'srv-b')).toEqual({ allow: true, reason: 'admin' });
  });

  it('is still narrowed by the key allow list', () => {
    const s = subject({ admin: true, allowServers: ['srv-b'] });
    expect(decideServer(s, 'srv-a')).toEqual({ allow: false, reason: 'outside-key-allow-list' });
    expect(decideServer(s, 'srv-b')).toEqual({ allow: true, reason: 'admin' });
  });
});

describe('key lists', () => {
  const granted = [grant('eng', 'srv-a', ['*']), grant('eng', 'srv-b', ['*']), grant('eng', 'srv-c', ['read'])];

  it('block wins over a grant', () => {
    const s = subject({ grants: granted, blockServers: ['srv-a'] });
    expect(decideServer(s, 'srv-a')).toEqual({ allow: false, reason: 'blocked-by-key' });
    expect(decideTool(s, 'srv-a', 'read')).toEqual({ allow: false, reason: 'blocked-by-key' });
    expect(names(allowedTools(s, 'srv-a'))).toEqual([]);
    expect(decideServer(s, 'srv-b')).toEqual({ allow: true, reason: 'granted' });
  });

  it('block wins over the allow list naming the same server', () => {
    const s = subject({ grants: granted, allowServers: ['srv-a'], blockServers: ['srv-a'] });
    expect(decideServer(s, 'srv-a')).toEqual({ allow: false, reason: 'blocked-by-key' });
  });

  it('an allow list narrows to the listed servers but grants nothing by itself', () => {
    const s = subject({ grants: granted, allowServers: ['srv-b', 'srv-z'] });
    expect(decideServer(s, 'srv-a')).toEqual({ allow: false, reason: 'outside-key-allow-list' });
    expect(decideServer(s, 'srv-b')).toEqual({ allow: true, reason: 'granted' });
    // listed but never granted: still default deny
    expect(decideServer(s, 'srv-z')).toEqual({ allow: false, reason: 'no-grant' });
  });

  it('an empty allow list ([]) denies everything, admins included', () => {
    for (const admin of [false, true]) {
      const s = subject({ admin, grants: granted, allowServers: [] });
      for (const srv of ['srv-a', 'srv-b', 'srv-c']) {
        expect(decideServer(s, srv)).toEqual({ allow: false, reason: 'outside-key-allow-list' });
        expect(decideTool(s, srv, 'read').allow).toBe(false);
        expect(names(allowedTools(s, srv))).toEqual([]);
      }
    }
  });

  it('a null allow list does not narrow', () => {
    const s = subject({ grants: granted, allowServers: null });
    expect(decideServer(s, 'srv-a').allow).toBe(true);
    expect(decideServer(s, 'srv-c').allow).toBe(true);
  });

  it('matches server ids exactly (no prefix or case folding)', () => {
    const s = subject({ grants: [grant('g', 'srv-a', ['*']), grant('g', 'SRV-A', ['*'])], blockServers: ['srv'] });
    expect(decideServer(s, 'srv-a').allow).toBe(true);
    const narrowed = subject({ grants: [grant('g', 'srv-a', ['*'])], allowServers: ['SRV-A', 'srv'] });
    expect(decideServer(narrowed, 'srv-a')).toEqual({ allow: false, reason: 'outside-key-allow-list' });
  });
});

describe('grants', () => {
  it('default deny: no grants, no access', () => {
    const s = subject();
    expect(decideServer(s, 'srv-a')).toEqual({ allow: false, reason: 'no-grant' });
    expect(decideTool(s, 'srv-a', 'read')).toEqual({ allow: false, reason: 'no-grant' });
    expect(names(allowedTools(s, 'srv-a'))).toEqual([]);
  });

  it('a grant on another server gives nothing here', () => {
    const s = subject({ grants: [grant('eng', 'srv-b', ['*'])] });
    expect(decideServer(s, 'srv-a')).toEqual({ allow: false, reason: 'no-grant' });
    expect(decideTool(s, 'srv-a', 'read')).toEqual({ allow: false, reason: 'no-grant' });
  });

  it('a grant with an empty tool list is no grant', () => {
    const s = subject({ grants: [grant('eng', 'srv-a', [])] });
    expect(decideServer(s, 'srv-a')).toEqual({ allow: false, reason: 'no-grant' });
    expect(names(allowedTools(s, 'srv-a'))).toEqual([]);
  });

  it('"*" grants every tool', () => {
    const s = subject({ grants: [grant('eng', 'srv-a', ['*'])] });
    expect(decideTool(s, 'srv-a', 'read')).toEqual({ allow: true, reason: 'granted' });
    expect(decideTool(s, 'srv-a', 'delete_everything')).toEqual({ allow: true, reason: 'granted' });
    expect(allowedTools(s, 'srv-a')).toBe('all');
  });

  it('named tools grant only those tools', () => {
    const s = subject({ grants: [grant('eng', 'srv-a', ['read', 'list'])] });
    expect(decideServer(s, 'srv-a')).toEqual({ allow: true, reason: 'granted' });
    expect(decideTool(s, 'srv-a', 'read')).toEqual({ allow: true, reason: 'granted' });
    expect(decideTool(s, 'srv-a', 'write')).toEqual({ allow: false, reason: 'tool-not-granted' });
    expect(decideTool(s, 'srv-a', 'READ')).toEqual({ allow: false, reason: 'tool-not-granted' });
    expect(decideTool(s, 'srv-a', 're*')).toEqual({ allow: false, reason: 'tool-not-granted' });
    expect(names(allowedTools(s, 'srv-a'))).toEqual(['list', 'read']);
  });

  it('a tool literally named like a pattern is not a wildcard', () => {
    const s = subject({ grants: [grant('eng', 'srv-a', ['read*'])] });
    expect(decideTool(s, 'srv-a', 'read_all')).toEqual({ allow: false, reason: 'tool-not-granted' });
  });

  it('unions the grants of several groups', () => {
    const s = subject({
      grants: [grant('eng', 'srv-a', ['read']), grant('ops', 'srv-a', ['restart']), grant('ops', 'srv-b', ['status'])],
    });
    expect(decideTool(s, 'srv-a', 'read').allow).toBe(true);
    expect(decideTool(s, 'srv-a', 'restart').allow).toBe(true);
    expect(decideTool(s, 'srv-a', 'status')).toEqual({ allow: false, reason: 'tool-not-granted' });
    expect(decideTool(s, 'srv-b', 'status').allow).toBe(true);
    expect(names(allowedTools(s, 'srv-a'))).toEqual(['read', 'restart']);
    expect(names(allowedTools(s, 'srv-b'))).toEqual(['status']);
  });

  it('one group\'s "*" widens another group\'s named tools to all', () => {
    const s = subject({ grants: [grant('eng', 'srv-a', ['read']), grant('ops', 'srv-a', ['*'])] });
    expect(allowedTools(s, 'srv-a')).toBe('all');
    expect(decideTool(s, 'srv-a', 'write').allow).toBe(true);
  });
});

describe('allowedTools and decideTool always agree (generated matrix)', () => {
  const servers = ['s1', 's2', 's3'];
  const tools = ['read', 'write', 'admin', '*', ''];
  const toolSets: string[][] = [[], ['read'], ['read', 'write'], ['*'], ['write', '*'], ['']];
  const allowLists: (string[] | null)[] = [null, [], ['s1'], ['s1', 's2'], ['s3', 'sX']];
  const blockLists: string[][] = [[], ['s1'], ['s2', 's3']];

  /** A small deterministic PRNG, so the matrix is the same on every run. */
  function rng(seed: number) {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 2 ** 32;
    };
  }

  function* subjects(): Generator<Subject> {
    const r = rng(20250101);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    for (let i = 0; i < 600; i++) {
      const grants: Grant[] = [];
      const n = Math.floor(r() * 4);
      for (let g = 0; g < n; g++) grants.push(grant(`g${g}`, pick(servers), pick(toolSets)));
      yield { admin: r() < 0.2, grants, allowServers: pick(allowLists), blockServers: pick(blockLists) };
    }
  }

  it('for every subject, server and tool', () => {
    let checked = 0;
    let allowedCount = 0;
    const disagreements: string[] = [];
    for (const s of subjects()) {
      for (const srv of servers) {
        const listed = allowedTools(s, srv);
        const server = decideServer(s, srv);
        for (const tool of tools) {
          const d = decideTool(s, srv, tool);
          const inList = listed === 'all' || listed.has(tool);
          if (d.allow !== inList) disagreements.push(`${JSON.stringify(s)} ${srv}/${tool}: decide=${d.allow} list=${inList}`);
          // A tool can only be allowed on a server that is itself allowed.
          if (d.allow && !server.allow) disagreements.push(`${srv}/${tool} allowed on a denied server`);
          // The key lists are absolute.
          if (d.allow && (s.blockServers.includes(srv) || (s.allowServers !== null && !s.allowServers.includes(srv)))) {
            disagreements.push(`${srv}/${tool} allowed despite the key lists`);
          }
          if (d.allow) allowedCount++;
          checked++;
        }
        if (!server.allow && listed !== 'all' && listed.size > 0) disagreements.push(`${srv}: denied server lists tools`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBe(600 * servers.length * tools.length);
    // the matrix exercises both outcomes in volume
    expect(allowedCount).toBeGreaterThan(checked / 10);
    expect(allowedCount).toBeLessThan(checked * 0.9);
  });
});
