import type { Config } from '../env.js';
import type { RedisHandle } from '../infra/redis.js';
import { localStorage } from './local.js';
import { s3Storage } from './s3.js';
import type { Storage } from './storage.js';

export type { Storage } from './storage.js';

/** The storage driver of STORAGE_DRIVER; `redis` shares the S3 driver's tus metadata cache between instances. */
export function createStorage(config: Config, redis?: RedisHandle): Storage {
  return config.STORAGE_DRIVER === 's3' ? s3Storage(config, { redis }) : localStorage(config.storageDir);
}
