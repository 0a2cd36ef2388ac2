/**
 * Global setup of the `s3` test project (vitest.config.ts): starts one S3-compatible test server (test/s3-helpers.ts)
 * for the run and hands it to the harness, so every app of the listed test files stores on it (STORAGE_DRIVER=s3,
 * a key prefix per app).
 */
import type { TestProject } from 'vitest/node';
import { startS3Server } from './s3-helpers.js';

export default async function setup(project: TestProject) {
  const { stop, ...server } = await startS3Server();
  project.provide('s3Server', server);
  return stop;
}
