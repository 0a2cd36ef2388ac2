import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * The Redis connection, or null when REDIS_URL is unset (everything that uses Redis then falls back
 * to an in-process implementation with the same behaviour, good for one process only).
 */
export interface RedisHandle {
  client: Redis | null;
  prefix: string;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function createRedis(url: string | undefined, prefix: string, log: Logger): RedisHandle {
  if (!url) {
    return { client: null, prefix, ping: async () => true, close: async () => {} };
  }
  const client = new Redis(url, {
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let lastErrorLogged = 0;
  client.on('error', (err) => {
    // One line every 10 s at most while Redis is down, not one per retry.
    if (Date.now() - lastErrorLogged > 10_000) {
      lastErrorLogged = Date.now();
      log.error({ err: err.message }, 'redis connection error');
    }
  });
  return {
    client,
    prefix,
    async ping() {
      try {
        return (await Promise.race([client.ping(), timeout(1_000)])) === 'PONG';
      } catch {
        return false;
      }
    },
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

const timeout = (ms: number) => new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms));
