import { statsFileInput, statsFileOutput, statsOverviewOutput } from '@tagdrop/contracts';
import { adminProcedure, protectedProcedure, router } from '../../trpc/init.js';
import { getManagedFile } from '../files/files.listing.js';
import { statsOverview } from './stats.queries.js';
import { emptyStats } from './stats.types.js';

export const statsRouter = router({
  /** One file's summary (owner or admin; anyone else gets not_found). */
  file: protectedProcedure
    .input(statsFileInput)
    .output(statsFileOutput)
    .query(async ({ ctx, input }) => {
      const file = await getManagedFile(ctx.deps, ctx.user, input.id);
      return (await ctx.deps.stats.summaries([file.id])).get(file.id) ?? emptyStats();
    }),
  /** The whole instance (admins): clicks per day, top files, top hashtags over the last 30 days. */
  overview: adminProcedure.output(statsOverviewOutput).query(({ ctx }) => statsOverview(ctx.deps.db)),
});
