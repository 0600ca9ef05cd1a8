import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@mcpgw/logger';
import { createSecurityEventRecorder, type SecurityEventInput } from './security-event.recorder.js';

function recorder() {
  const stored: (SecurityEventInput & { service: string })[] = [];
  const r = createSecurityEventRecorder('test', { insert: async (e) => void stored.push(e) }, createLogger({ service: 'test', level: 'error' }));
  return { r, stored };
}

describe('security event recorder', () => {
  afterEach(() => vi.useRealTimers());

  it('stores one rate-limited event per subject and reason per 10 s, and the next one says how many were not written', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-11-22T00:00:00Z'));
    const { r, stored } = recorder();
    for (let i = 0; i < 50; i++) r.record({ kind: 'rate-limited', reason: 'user limit of 100/60s', userId: 'u1', requestId: `a${i}` });
    r.record({ kind: 'rate-limited', reason: 'user limit of 100/60s', userId: 'u2', requestId: 'b0' });
    r.record({ kind: 'rate-limited', reason: 'tenant limit of 10/60s', userId: 'u1', requestId: 'c0' });
    await r.flush();
    expect(stored.map((e) => e.requestId)).toEqual(['a0', 'b0', 'c0']);

    vi.setSystemTime(new Date('2026-11-22T00:00:10.001Z'));
    r.record({ kind: 'rate-limited', reason: 'user limit of 100/60s', userId: 'u1', requestId: 'a50' });
    await r.flush();
    expect(stored.at(-1)).toMatchObject({ requestId: 'a50', details: { repeated: 49 } });
  });

  it('stores every event of the other kinds (each refused credential stays traceable by request id)', async () => {
    const { r, stored } = recorder();
    for (let i = 0; i < 5; i++) r.record({ kind: 'unauthenticated', reason: 'unknown', clientIp: '10.0.0.1', requestId: `r${i}` });
    await r.flush();
    expect(stored).toHaveLength(5);
  });
});
