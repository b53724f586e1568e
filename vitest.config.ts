import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // GitHub's workflow parser imports its schema as JSON without an import attribute,
          // which Node 20 refuses: vite loads it instead.
          server: { deps: { inline: ['@actions/workflow-parser'] } },
        },
      },
      {
        // Property-based fuzzing of the TypeScript parsers (fast-check), NABLA_FUZZ_SECONDS each.
        test: { name: 'fuzz', include: ['test/fuzz/ts/**/*.test.ts'] },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // One Docker engine and two cores: e2e files run one at a time.
          fileParallelism: false,
          testTimeout: 15 * 60_000,
          hookTimeout: 20 * 60_000,
          globalSetup: ['test/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
