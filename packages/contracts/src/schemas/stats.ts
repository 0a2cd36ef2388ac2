import { z } from 'zod';
import { dailyClicksSchema, fileDetailStatsSchema, fileId } from './files.js';

/** Click statistics: one file's summary (owner/admin) and the instance overview (admin). */

export const statsFileInput = z.object({ id: fileId });
export const statsFileOutput = fileDetailStatsSchema;

export const statsTopFileSchema = z.object({
  id: fileId,
  name: z.string(),
  owner_id: z.uuid(),
  is_public: z.boolean(),
  clicks: z.number().int().nonnegative().describe('Clicks in the last 30 days'),
});

export const statsTopHashtagSchema = z.object({
  name: z.string(),
  clicks: z.number().int().nonnegative().describe('Clicks in the last 30 days on files with this hashtag'),
  files: z.number().int().nonnegative().describe('Files with this hashtag clicked in the last 30 days'),
});

export const statsOverviewOutput = z.object({
  daily: z.array(dailyClicksSchema).describe('Clicks per UTC day across the instance, last 30 days, oldest first'),
  total_clicks: z.number().int().nonnegative().describe('Clicks in the last 30 days'),
  top_files: z.array(statsTopFileSchema).describe('Most clicked files of the last 30 days (at most 10)'),
  top_hashtags: z.array(statsTopHashtagSchema).describe('Most clicked hashtags of the last 30 days (at most 10)'),
  as_of: z.iso.datetime({ offset: true }).describe('History is flushed from the live counters every minute'),
});

export type StatsOverview = z.infer<typeof statsOverviewOutput>;
export type StatsTopFile = z.infer<typeof statsTopFileSchema>;
export type StatsTopHashtag = z.infer<typeof statsTopHashtagSchema>;
