import { defineConfig } from 'vitest/config';

/** Tests of what runs apps: run once per engine (docs/engine.md). */
const RUNTIME_FACING = ['runtime', 'hostile', 'wasi', 'http', 'messaging', 'identity', 'accounting', 'agent'].map((dir) => `test/${dir}/**/*.test.ts`);
/** Tests of one engine's own parts, or that run each engine themselves. */
const ENGINE_OWN = [
  'test/runtime/engine.test.ts',
  'test/runtime/glue-*.test.ts',
  'test/runtime/warm-up.test.ts',
  'test/runtime/table-limit.test.ts',
  'test/runtime/memory-budget.test.ts',
  'test/runtime/memory-limit.test.ts',
  'test/runtime/echo-roundtrip.test.ts',
  'test/runtime/wasmtime-*.test.ts',
  'test/runtime/component.test.ts',
  'test/runtime/grant-table.test.ts',
  'test/runtime/grants.test.ts',
  'test/runtime/call-queue.test.ts',
  'test/agent/device-install.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: files run in parallel forks, but each suite starts its own servers and workers.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'jco', include: ['test/**/*.test.ts'], env: { BERTH_ENGINE: 'jco' } } },
      { extends: true, test: { name: 'wasmtime', include: RUNTIME_FACING, exclude: ENGINE_OWN, setupFiles: ['test/support/engine-setup.ts'] } },
    ],
  },
});
