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
  // @tus/s3-store's metadata cache shared in Redis by two instances (its own S3 server).
  'test/files-s3-instances.test.ts',
  // The download metadata cache: cross-instance invalidation, its multi-key Lua.
  'test/downloads-metadata-cache.test.ts',
];

/**
 * The file tests that run a second time with STORAGE_DRIVER=s3 (project `s3`, against the S3-compatible server of
 * test/s3.setup.ts): every test of uploads, downloads, files and their expiry, except the ones local by nature.
 */
export const s3Tests = ['test/files-*.test.ts', 'test/downloads-small-files.test.ts'];
export const s3Excluded = [
  // Already on s3 in every project (their own S3 server).
  'test/files-s3*.test.ts',
  // Reproduces crashes by writing bytes into STORAGE_DIR behind the server's back: local by nature.
  'test/files-tus-recovery.test.ts',
  // A 4 GiB file made sparse on the local disk (no S3 store keeps 4 GiB of zeros for free).
  'test/files-zip64.test.ts',
  // PostgreSQL going away mid-request: the same on every driver (and it starts a PostgreSQL cluster of its own).
  'test/files-tus-outage.test.ts',
  // No bytes stored or read (queries, the OpenAPI document): nothing a storage driver changes.
  'test/files-search.test.ts',
  'test/files-openapi.test.ts',
  'test/files-lean-list.test.ts',
  // expiry-sweep.test.ts (not listed) checks files on disk (mtime, .json); on s3: files-s3-expiry.test.ts.
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
      {
        extends: true,
        test: { name: 's3', include: s3Tests, exclude: s3Excluded, globalSetup: ['test/s3.setup.ts'] },
      },
    ],
  },
});
