import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors.js';
import type { RedisHandle } from './redis.js';

export interface LimiterSpec {
  name: string;
  points: number;
  durationSeconds: number;
  /** How long a key stays blocked once it ran out (defaults to the rest of the window). */
  blockSeconds?: number;
}

export interface Limiter {
  /** Takes one point; throws AppError('rate_limited') with retryAfter when none is left. */
  consume(key: string, points?: number): Promise<void>;
  /** Throws if the key is already out of points, without taking one. */
  check(key: string): Promise<void>;
  /** Gives points back (taken for a request that turned out not to count). */
  reward(key: string, points?: number): Promise<void>;
  reset(key: string): Promise<void>;
}

/**
 * Points of one request taken from several limiters, all or nothing: take() consumes atomically (so concurrent
 * requests cannot all slip past a read-only check), and when one limiter refuses (or fails) the points already taken
 * for this request are given back before the error is thrown, so a refused request takes nothing.
 */
export class PointsTaken {
  private readonly taken: { limiter: Limiter; key: string }[] = [];

  async take(limiter: Limiter, key: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (err) {
      await this.giveBack();
      throw err;
    }
    this.taken.push({ limiter, key });
  }

  /** Gives back every point taken so far (best effort: a failure to give back only leaves the point spent). */
  async giveBack(): Promise<void> {
    const taken = this.taken.splice(0);
    await Promise.all(taken.map(({ limiter, key }) => limiter.reward(key).catch(() => {})));
  }
}

/**
 * rate-limiter-flexible on Redis when configured, its memory limiter otherwise. While Redis is away every call
 * fails at once (the error formatter answers 503 service_unavailable): a per-process fallback would let an
 * attacker multiply the limits by the number of instances, so logins wait for Redis instead.
 */
export function createLimiter(redis: RedisHandle, spec: LimiterSpec): Limiter {
  const options = {
    keyPrefix: `${redis.prefix}rl:${spec.name}`,
    points: spec.points,
    duration: spec.durationSeconds,
    blockDuration: spec.blockSeconds ?? 0,
  };
  const limiter = redis.client
    ? new RateLimiterRedis({
        ...options,
        storeClient: redis.client,
        // Refused before anything is sent while the connection is not ready (no waiting for a reconnect).
        rejectIfRedisNotReady: true,
      })
    : new RateLimiterMemory(options);

  const limited = (res: RateLimiterRes) =>
    new AppError('rate_limited', 'Too many requests. Try again later.', {
      retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)),
    });

  return {
    async consume(key, points = 1) {
      try {
        await limiter.consume(key, points);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw limited(err);
        throw err;
      }
    },
    async check(key) {
      const res = await limiter.get(key);
      if (res && res.remainingPoints <= 0 && res.msBeforeNext > 0) throw limited(res);
    },
    async reward(key, points = 1) {
      await limiter.reward(key, points);
    },
    async reset(key) {
      await limiter.delete(key);
    },
  };
}
