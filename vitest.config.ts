import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests start real mock brokers; two cores are all we have.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
