import { backfillThumbnailsJob } from './backfill-thumbnails.job.js';
import { deleteExpiredFilesJob } from './delete-expired-files.job.js';
import { flushClickStatsJob } from './flush-click-stats.job.js';
import { makeThumbnailJob } from './make-thumbnail.job.js';
import { sendOtpJob } from './send-otp.job.js';
import type { JobSpec } from './types.js';

/** Every job the worker knows, in one list. */
export const jobSpecs: JobSpec[] = [
  sendOtpJob,
  deleteExpiredFilesJob,
  flushClickStatsJob,
  makeThumbnailJob,
  backfillThumbnailsJob,
];
