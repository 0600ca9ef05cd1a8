import { describe, expect, it } from 'vitest';
import { createToolName, parseToolName } from './tool-name.js';

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
});
