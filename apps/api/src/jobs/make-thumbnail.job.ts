import { z } from 'zod';
import { makeThumbnail } from '../modules/files/thumbnails.js';
import { defineJob } from './types.js';

export const makeThumbnailPayload = z.object({
  fileId: z.uuid(),
  /** The content to thumbnail: a job for content that was replaced meanwhile does nothing. */
  storageKey: z.string().regex(/^[A-Za-z0-9_-]{8,128}$/),
});

/**
 * Makes an image's thumbnail after its upload was committed (queued by modules/files, never run in a request).
 * A job that was never queued or got lost is made up for by backfill-thumbnails.
 */
export const makeThumbnailJob = defineJob({
  name: 'make-thumbnail',
  schema: makeThumbnailPayload,
  // Two at a time (one libvips thread each); storage hiccups are retried, images sharp refuses are not.
  options: { concurrency: 2, lockLifetime: 2 * 60_000, retries: { max: 3, delayMs: 2_000 }, removeOnComplete: true },
  async handler(data, deps) {
    const outcome = await makeThumbnail(deps, data.fileId, data.storageKey);
    deps.log.debug({ fileId: data.fileId, outcome }, 'make-thumbnail');
  },
});
