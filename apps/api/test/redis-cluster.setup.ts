/**
 * Global setup of the `redis-cluster` test project (vitest.config.ts): starts a real 3-master Redis Cluster for
 * the run and hands its REDIS_URL (`redis+cluster://…`) to the harness, so the listed test files run against it.
 */
import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './redis-helpers.js';

export default async function setup(project: TestProject) {
  const cluster = await startRedisCluster();
  project.provide('redisUrl', cluster.url);
  return () => cluster.stop();
}
