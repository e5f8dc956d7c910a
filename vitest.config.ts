import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // bench/test: the benchmark competitors' own checks (skipped, with the reason, without its peers).
    include: ['test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 60_000,
    // Rebuilds dist/ when src/ is newer: several tests run bin/adc.js, the package's subpaths and the examples.
    globalSetup: ['test/support/build-dist.ts'],
    // The default report, then the reason of each test skipped with one (the browser test without Chromium).
    reporters: ['default', './test/support/skipped-reporter.ts'],
  },
});
