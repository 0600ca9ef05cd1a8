import { describe, expect, it } from 'vitest';
import { scrubJson, scrubSecrets } from './scrub.js';

describe('scrubbing tenant keys from upstream text', () => {
  const key = 'sk-"live"/123?&';

  it('removes the plain, JSON-escaped and URL-encoded forms', () => {
    const text = `invalid key ${key}; json {"k":${JSON.stringify(key)}}; url ?key=${encodeURIComponent(key)}`;
    const out = scrubSecrets(text, [key, `Bearer ${key}`]);
    expect(out).not.toContain('live');
    expect(out).toBe('invalid key [redacted]; json {"k":"[redacted]"}; url ?key=[redacted]');
  });

  it('removes a header value as a whole, whatever the order of the secrets', () => {
    expect(scrubSecrets(`got Bearer ${key}`, [key, `Bearer ${key}`])).toBe('got [redacted]');
  });

  it('leaves text without secrets alone', () => {
    expect(scrubSecrets('Tool nope not found', [])).toBe('Tool nope not found');
    expect(scrubSecrets('Tool nope not found', ['', 'sk-abc'])).toBe('Tool nope not found');
  });

  it('scrubs JSON values and keeps their shape', () => {
    expect(scrubJson({ reason: `bad ${key}`, n: 1 }, [key])).toEqual({ reason: 'bad [redacted]', n: 1 });
    expect(scrubJson(undefined, [key])).toBeUndefined();
    expect(scrubJson({ a: 1 }, [])).toEqual({ a: 1 });
  });
});
