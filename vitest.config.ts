import { configDefaults, defineConfig } from 'vitest/config';

/** Fault tests (test/faults) stop, hang and restart servers under load and measure latency. */
const FAULTS = 'test/faults/**/*.test.ts';
/** The perf smoke (test/perf) runs the real bench at reduced duration: alone, at the very end. */
const PERF = 'test/perf/**/*.test.ts';

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/summary.reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'services/*/src/**/*.test.ts', 'services/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, FAULTS, PERF],
        },
      },
      {
        // After everything else, one file at a time: their latency figures must not measure the
        // other tests' CPU load.
        extends: true,
        test: { name: 'faults', include: [FAULTS], poolOptions: { forks: { singleFork: true } }, sequence: { groupOrder: 1 } },
      },
      {
        // Throughput ratios: measured with nothing else running, after the fault tests.
        extends: true,
        test: { name: 'perf', include: [PERF], poolOptions: { forks: { singleFork: true } }, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
