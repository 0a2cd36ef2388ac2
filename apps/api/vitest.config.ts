import { defineConfig } from 'vitest/config';

/**
 * Test files that also run against a real 3-master Redis Cluster (project `redis-cluster`, started by
 * test/redis-cluster.setup.ts): everything that keeps state in Redis. Add a file here to run it on the cluster too.
 */
export const redisClusterTests = [
  'test/redis-cluster.test.ts',
  'test/stats-clicks.test.ts',
  'test/auth-rate-limit.test.ts',
  'test/auth-revocation.test.ts',
  'test/auth-sessions.test.ts',
  'test/tus-locker.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Each file gets its own database and Redis prefix, so files may run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'api',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          // Needs the cluster's URL: it runs in the redis-cluster project only.
          exclude: ['test/redis-cluster.test.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'redis-cluster', include: redisClusterTests, globalSetup: ['test/redis-cluster.setup.ts'] },
      },
    ],
  },
});
