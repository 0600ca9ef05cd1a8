import { describe, expect, it } from 'vitest';
import { unwrapResourceUri, wrapResourceUri } from './resource-uri.js';
import { createToolName, createToolNames, MAX_NAME_LENGTH, parseToolName, resolveToolName } from './tool-name.js';

const VALID = /^[A-Za-z0-9_-]{1,64}$/;

describe('tool names on /mcp', () => {
  it('round-trips a server id and a tool name', () => {
    expect(createToolName('github', 'create_issue')).toBe('github__create_issue');
    expect(parseToolName('github__create_issue')).toEqual({ serverId: 'github', tool: 'create_issue' });
  });

  it('splits at the first separator, so tool names may contain __ themselves', () => {
    const name = createToolName('my-server-2', 'do__it__now');
    expect(parseToolName(name)).toEqual({ serverId: 'my-server-2', tool: 'do__it__now' });
  });

  it('rejects names that are not server-qualified', () => {
    for (const name of ['echo', '__echo', 'demo__', 'Demo__echo', '-demo__echo', 'de_mo__echo', `${'a'.repeat(49)}__echo`, '']) {
      expect(parseToolName(name), name).toBeNull();
    }
  });

  it('refuses to build a name from an invalid server id', () => {
    expect(() => createToolName('bad__id', 'echo')).toThrow(/invalid server id/);
    expect(() => createToolName('Upper', 'echo')).toThrow(/invalid server id/);
  });

  it('shortens long names and names with other characters to 64 of [A-Za-z0-9_-], the same way every time', () => {
    const longServer = 'x'.repeat(48);
    const cases: [string, string][] = [
      ['github', 'a'.repeat(100)],
      ['github', 'files.read'],
      ['github', 'héllo wörld/ünïcode'],
      [longServer, 'search_repositories_by_language_and_stars'],
      [longServer, '.'],
    ];
    for (const [server, tool] of cases) {
      const name = createToolName(server, tool);
      expect(name, tool).toMatch(VALID);
      expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
      expect(name.startsWith(`${server}__`)).toBe(true);
      expect(createToolName(server, tool)).toBe(name);
      expect(parseToolName(name)).toEqual({ serverId: server, shortened: name });
    }
    expect(createToolName('github', 'files.read')).toMatch(/^github__files_read_h[0-9a-z]{8}$/);
    // Names that differ only in replaced characters still get different names.
    expect(createToolName('github', 'files.read')).not.toBe(createToolName('github', 'files/read'));
  });

  it('keeps names within a lower limit, leaving room for a client prefix, and resolves them with the same limit', () => {
    const name = createToolName('github', 'search_repositories_by_language', 30);
    expect(name.length).toBeLessThanOrEqual(30);
    expect(name).toMatch(/^github__search_re[A-Za-z_]*_h[0-9a-z]{8}$/);
    expect(createToolName('github', 'list_issues', 30)).toBe('github__list_issues');
    expect(resolveToolName('github', name, ['list_issues', 'search_repositories_by_language'], 30)).toBe('search_repositories_by_language');
    expect(resolveToolName('github', name, ['search_repositories_by_language'])).toBeNull();
  });

  it('a tool whose own name looks shortened is shortened too, so the two forms never meet', () => {
    const lookalike = 'build_h12345678';
    const name = createToolName('ci', lookalike);
    expect(name).not.toBe(`ci__${lookalike}`);
    expect(parseToolName(name)).toEqual({ serverId: 'ci', shortened: name });
    expect(resolveToolName('ci', name, ['build', lookalike])).toBe(lookalike);
  });

  it('resolves a shortened name against the server list; an unknown one resolves to nothing', () => {
    const tools = ['files.read', 'files.write', 'plain'];
    const names = createToolNames('fs', tools);
    expect([...names.values()]).toHaveLength(3);
    expect(new Set(names.values()).size).toBe(3);
    expect(names.get('plain')).toBe('fs__plain');
    expect(resolveToolName('fs', names.get('files.write')!, tools)).toBe('files.write');
    expect(resolveToolName('fs', 'fs__files_delete_h00000000', tools)).toBeNull();
  });
});

describe('resource URIs on /mcp', () => {
  it('wraps and unwraps URIs and URI templates of any scheme', () => {
    for (const uri of ['file:///etc/hosts', 'demo://resource/dynamic/text/{resourceId}', 'https://x.example/a?b=c#d', 'urn:isbn:123']) {
      const wrapped = wrapResourceUri('docs', uri);
      expect(wrapped.startsWith('mcpgw://docs/')).toBe(true);
      expect(unwrapResourceUri(wrapped)).toEqual({ serverId: 'docs', uri });
    }
  });

  it('does not unwrap URIs that are not aggregated ones', () => {
    for (const uri of ['file:///x', 'mcpgw://', 'mcpgw://docs/', 'mcpgw://Bad_Id/x', 'mcpgw:///x']) expect(unwrapResourceUri(uri), uri).toBeNull();
  });
});
