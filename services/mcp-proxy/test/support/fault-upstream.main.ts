import { startFaultUpstream, type FaultMode } from './fault-upstream.js';

/**
 * The fault upstream as its own process, for tests that kill it (`kill -9`) and start it again on
 * the same port. Environment: PORT, MODE (normal, slow, hang, garbage, not-json-rpc, huge,
 * flaky-503), DELAY_MS, HUGE_BYTES, FAIL_RATIO. Prints `listening on port N` when ready.
 */
const upstream = await startFaultUpstream(
  {
    mode: (process.env.MODE ?? 'normal') as FaultMode,
    ...(process.env.DELAY_MS ? { delayMs: Number(process.env.DELAY_MS) } : {}),
    ...(process.env.HUGE_BYTES ? { hugeBytes: Number(process.env.HUGE_BYTES) } : {}),
    ...(process.env.FAIL_RATIO ? { failRatio: Number(process.env.FAIL_RATIO) } : {}),
  },
  Number(process.env.PORT ?? 0),
);
process.stdout.write(`listening on port ${upstream.port}\n`);
