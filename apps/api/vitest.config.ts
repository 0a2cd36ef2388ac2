import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own database and Redis prefix, so files may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
