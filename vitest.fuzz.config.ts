import { defineConfig } from 'vitest/config';

/** `npm run fuzz`: the long-running searches in test/fuzz, kept out of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/fuzz/**/*.fuzz.ts', 'test/robustness.test.ts'],
    testTimeout: 3_600_000,
  },
});
