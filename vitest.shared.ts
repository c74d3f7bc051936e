import { defineConfig } from 'vitest/config';

/**
 * One test configuration for every package. Workspace packages resolve to their
 * TypeScript sources (the `source` export condition), so a test always runs against the
 * code beside it rather than a stale build.
 */
export const sharedConfig = defineConfig({
  resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] },
  ssr: { resolve: { conditions: ['source', 'import', 'module', 'node', 'default'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // The machine has two cores; more workers only make the crash tests fight for them.
    maxWorkers: 2,
  },
});
