import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger.js';
import { parseRedisUrl } from './redis-url.js';

/**
 * One Redis server or a Redis Cluster (REDIS_URL `redis+cluster://…`). Code that uses it follows the cluster's
 * rules everywhere: every multi-key command, transaction, pipeline and Lua script touches keys of one hash slot
 * (keys that share a `{hash tag}`), and a script declares every key it touches (KEYS, never built from ARGV).
 */
export type RedisClient = Redis | Cluster;

/**
 * The Redis connection, or null when REDIS_URL is unset (everything that uses Redis then falls back
 * to an in-process implementation with the same behaviour, good for one process only).
 */
export interface RedisHandle {
  client: RedisClient | null;
  prefix: string;
  /** Whether commands can be sent right now (connected and ready). */
  available(): boolean;
  /** Waits (up to ms) until the connection is ready or has failed once; true when ready. */
  whenReady(ms: number): Promise<boolean>;
  ping(): Promise<boolean>;
  /**
   * A new connection with the same settings for pub/sub (SUBSCRIBE; on a cluster, classic pub/sub reaches
   * subscribers on every node): commands wait for the connection instead of failing, subscriptions are
   * restored after a reconnect. The caller closes it.
   */
  duplicate(): RedisClient;
  close(): Promise<void>;
}

/** A command without an answer after this long fails (a hung server, lost packets): callers answer 503. */
export const REDIS_COMMAND_TIMEOUT_MS = 500;

/**
 * Fail fast while Redis is away, recover by itself when it returns:
 * - no offline queue: a command sent while there is no connection is refused at once instead of waiting for
 *   a reconnect (that wait is what made logins take 5–17 s during an outage);
 * - commandTimeout: a command sent on a connection that no longer answers fails after 500 ms;
 * - maxRetriesPerRequest 0: commands in flight when the connection drops fail at once, never resent later;
 * - reconnects every 100 ms rising to 1 s, forever: service is back within about a second of Redis;
 * - auto-pipelining: the commands that concurrent requests send in the same event-loop turn leave in one write
 *   (profiled under list load, socket writes were the largest single cost: ~1 in 4 CPU-busy samples).
 * What needs Redis (login rate limits) turns these errors into 503 service_unavailable; what only counts
 * (download clicks) skips them.
 */
export const redisOptions: RedisOptions = {
  enableOfflineQueue: false,
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  maxRetriesPerRequest: 0,
  connectTimeout: 2_000,
  retryStrategy: (times) => Math.min(times * 100, 1_000),
  enableAutoPipelining: true,
};

/** The same for a cluster: slots are re-read and nodes reconnected by the same rules. */
const clusterOptions = (target: { username?: string; password?: string; tls: boolean }): ClusterOptions => ({
  enableOfflineQueue: false,
  enableAutoPipelining: true,
  clusterRetryStrategy: redisOptions.retryStrategy,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  slotsRefreshTimeout: 2_000,
  redisOptions: {
    ...redisOptions,
    username: target.username,
    password: target.password,
    ...(target.tls ? { tls: {} } : {}),
  },
});

/** A client for REDIS_URL (validated by env.ts): a Redis or a Cluster. */
export function connectRedis(url: string, overrides: RedisOptions = {}): RedisClient {
  const target = parseRedisUrl(url);
  if (target instanceof Error) throw new Error(`REDIS_URL ${target.message}`);
  if (target.kind === 'server') return new Redis(url, { ...redisOptions, ...overrides });
  const options = clusterOptions(target);
  return new Cluster(target.nodes, {
    ...options,
    ...(overrides.enableOfflineQueue !== undefined ? { enableOfflineQueue: overrides.enableOfflineQueue } : {}),
    ...(overrides.enableAutoPipelining !== undefined ? { enableAutoPipelining: overrides.enableAutoPipelining } : {}),
    redisOptions: { ...options.redisOptions, ...overrides },
  });
}

export function createRedis(url: string | undefined, prefix: string, log: Logger): RedisHandle {
  if (!url) {
    return {
      client: null,
      prefix,
      available: () => true,
      whenReady: async () => true,
      ping: async () => true,
      duplicate: () => {
        throw new Error('no Redis: REDIS_URL is unset');
      },
      close: async () => {},
    };
  }
  const client = connectRedis(url);
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
    available: () => client.status === 'ready',
    whenReady(ms) {
      if (client.status === 'ready') return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          client.off('ready', done).off('error', done);
          resolve(client.status === 'ready');
        };
        const timer = setTimeout(done, ms);
        client.on('ready', done).on('error', done);
      });
    },
    async ping() {
      try {
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      }
    },
    duplicate() {
      const copy = connectRedis(url, {
        enableOfflineQueue: true,
        commandTimeout: undefined,
        maxRetriesPerRequest: null,
        enableAutoPipelining: false,
      });
      copy.on('error', () => {}); // reported by the main connection
      return copy;
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
