import type { RedisHandle } from '../../infra/redis.js';
import { memorySessionCache } from './session-cache.memory.js';
import { redisSessionCache } from './session-cache.redis.js';
import type { SessionCache } from './session-cache.types.js';

/** Redis when configured (every instance sees every change at once), the in-process twin otherwise. */
export function createSessionCache(redis: RedisHandle): SessionCache {
  return redis.client ? redisSessionCache({ ...redis, client: redis.client }) : memorySessionCache();
}
