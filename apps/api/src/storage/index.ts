import type { Config } from '../env.js';
import type { RedisHandle } from '../infra/redis.js';
import { localStorage } from './local.js';
import type { Storage } from './storage.js';

export type { Storage } from './storage.js';

/**
 * The storage driver of STORAGE_DRIVER; `redis` shares the S3 driver's tus metadata cache between instances. The S3
 * driver (and the AWS SDK, ~25 MB of memory) is loaded only when it is the one configured.
 */
export async function createStorage(config: Config, redis?: RedisHandle): Promise<Storage> {
  if (config.STORAGE_DRIVER !== 's3') return localStorage(config.storageDir);
  const { s3Storage } = await import('./s3.js');
  return s3Storage(config, { redis });
}
