import { describe, expect, it, vi } from 'vitest';
import { beyondCap, createLocalSessionDirectory, type SessionRecord } from './session-directory.js';

const record = (userId: string): SessionRecord => ({
  owner: { userId, scope: 'all' },
  initialize: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } },
  context: {},
  state: {},
  createdAt: 0,
});

describe('beyondCap', () => {
  it('keeps the most recently used, never the new one, and nothing under the cap', () => {
    const s = (id: string, lastSeen: number) => ({ id, lastSeen });
    expect(beyondCap([s('a', 1), s('b', 2)], 2, 'b')).toEqual([]);
    expect(beyondCap([s('a', 3), s('b', 1), s('c', 2), s('new', 0)], 2, 'new')).toEqual(['b', 'c']);
  });
});

describe('the in-process session directory', () => {
  it('evicts the least recently used session of the same user only', async () => {
    const dir = createLocalSessionDirectory({ idleMs: 60_000, maxPerUser: 2 });
    vi.useFakeTimers();
    try {
      await dir.add('a1', record('alice'));
      vi.advanceTimersByTime(10);
      await dir.add('b1', record('bob'));
      await dir.add('a2', record('alice'));
      vi.advanceTimersByTime(10);
      expect(await dir.touch('a1', 'alice')).toBe(true);
      vi.advanceTimersByTime(10);
      expect(await dir.add('a3', record('alice'))).toEqual(['a2']);
      expect(await dir.get('a2')).toBeUndefined();
      expect(await dir.get('b1')).toBeDefined();
      expect(await dir.touch('a1', 'bob')).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('expires a session unused for the idle time, and a removed one stays removed', async () => {
    vi.useFakeTimers();
    try {
      const dir = createLocalSessionDirectory({ idleMs: 1_000, maxPerUser: 5 });
      await dir.add('s', record('alice'));
      vi.advanceTimersByTime(900);
      expect(await dir.touch('s', 'alice')).toBe(true);
      vi.advanceTimersByTime(900);
      expect(await dir.get('s')).toBeDefined();
      vi.advanceTimersByTime(1_100);
      expect(await dir.get('s')).toBeUndefined();
      await dir.add('t', record('alice'));
      await dir.remove('t', 'alice');
      await dir.update('t', record('alice'));
      expect(await dir.get('t')).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
