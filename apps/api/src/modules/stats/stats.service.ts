import type { Db } from '@tagdrop/db';
import type { Logger } from '../../infra/logger.js';
import type { RedisHandle } from '../../infra/redis.js';
import { emptyStats, type StatsService } from './stats.types.js';

/** Placeholder until click counting lands: everything reads as zero. */
export function createStatsService(_deps: { db: Db; redis: RedisHandle; log: Logger }): StatsService {
  return {
    recordClick() {},
    async summaries(fileIds) {
      return new Map(fileIds.map((id) => [id, emptyStats()]));
    },
    async forget() {},
  };
}
