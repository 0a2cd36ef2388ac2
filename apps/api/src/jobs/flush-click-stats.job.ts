import { z } from 'zod';
import { defineJob } from './types.js';

/**
 * Moves the live click counters (Redis) into PostgreSQL (file_click_daily, file_click_totals), so history
 * survives a Redis wipe. Exactly once per click: counts move pending → inflight atomically, are applied
 * with a (batch, file) marker, then dropped; a crash anywhere is finished by the next run.
 */
export const flushClickStatsJob = defineJob({
  name: 'flush-click-stats',
  schema: z.object({}),
  // touch() after every chunk of 500 files renews the lock.
  options: { concurrency: 1, lockLifetime: 2 * 60_000 },
  every: (config) => config.STATS_FLUSH_INTERVAL,
  async handler(_data, deps, job) {
    const started = Date.now();
    const result = await deps.stats.flush({ touch: () => job.touch() });
    if (result.clicks > 0) {
      deps.log.info({ ...result, ms: Date.now() - started }, 'flush-click-stats: counters flushed');
    }
  },
});
