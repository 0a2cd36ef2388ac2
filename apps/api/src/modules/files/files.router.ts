import {
  bulkFilesInput,
  bulkFilesOutput,
  detailOutput,
  fileIdInput,
  fileListOutput,
  fileSchema,
  hashtagListOutput,
  listFilesInput,
  previewLinksOutput,
  unlockLinkInput,
  unlockLinkOutput,
  updateFileInput,
  zipFilesBody,
  zipLinkOutput,
} from '@tagdrop/contracts';
import { z } from 'zod';
import { createZipLink } from '../../downloads/zip-link.js';
import { protectedProcedure, publicProcedure, router } from '../../trpc/init.js';
import { bulkFiles } from './files.bulk.js';
import { getFile, getPreviewLinks, getPublicFile, getSharedFile, listFiles } from './files.listing.js';
import { deleteFile, rotateLink, updateFile } from './files.service.js';
import { listHashtags } from './hashtags.service.js';
import { unlockLink } from './link-controls.js';

export const filesRouter = router({
  list: protectedProcedure
    .input(listFilesInput)
    .output(fileListOutput)
    .query(({ ctx, input }) => listFiles(ctx.deps, { kind: 'own', user: ctx.user }, input, ctx.user, ctx.baseUrl)),
  get: protectedProcedure
    .input(fileIdInput)
    .output(fileSchema)
    .query(({ ctx, input }) => getFile(ctx.deps, ctx.user, input.id, ctx.baseUrl)),
  update: protectedProcedure
    .input(fileIdInput.extend(updateFileInput.shape))
    .output(fileSchema)
    .mutation(({ ctx, input: { id, ...changes } }) => updateFile(ctx.deps, ctx.user, id, changes, ctx.baseUrl)),
  delete: protectedProcedure
    .input(fileIdInput)
    .output(detailOutput)
    .mutation(({ ctx, input }) => deleteFile(ctx.deps, ctx.user, input.id)),
  /** One action on up to 500 files, all or nothing (REST: POST /api/files/bulk/). */
  bulk: protectedProcedure
    .input(bulkFilesInput)
    .output(bulkFilesOutput)
    .mutation(({ ctx, input }) => bulkFiles(ctx.deps, ctx.user, input)),
  /** A link to the ZIP of these files that a browser downloads (streamed to disk), once, within 60 s. */
  zipLink: protectedProcedure
    .input(zipFilesBody)
    .output(zipLinkOutput)
    .mutation(({ ctx, input }) => createZipLink(ctx.deps, ctx.user, input.ids)),
  previewLinks: protectedProcedure
    .input(fileIdInput)
    .output(previewLinksOutput)
    .query(({ ctx, input }) => getPreviewLinks(ctx.deps, ctx.user, input.id, ctx.baseUrl)),
  rotateLink: protectedProcedure
    .input(fileIdInput)
    .output(fileSchema)
    .mutation(({ ctx, input }) => rotateLink(ctx.deps, ctx.user, input.id, ctx.baseUrl)),
});

export const publicRouter = router({
  list: publicProcedure
    .input(listFilesInput)
    .output(fileListOutput)
    .query(({ ctx, input }) => listFiles(ctx.deps, { kind: 'public' }, input, ctx.user, ctx.baseUrl)),
  get: publicProcedure
    .input(fileIdInput)
    .output(fileSchema)
    .query(({ ctx, input }) => getPublicFile(ctx.deps, input.id, ctx.user, ctx.baseUrl)),
  byToken: publicProcedure
    .input(z.object({ token: z.string().min(1).max(100), unlock: z.string().max(100).optional() }))
    .output(fileSchema)
    .query(({ ctx, input }) => getSharedFile(ctx.deps, input.token, ctx.user, ctx.baseUrl, input.unlock)),
  /** The password of a private link → the link with a short-lived grant (REST: POST /api/share/{token}/unlock/). */
  unlock: publicProcedure
    .input(unlockLinkInput.extend({ token: z.string().min(1).max(100) }))
    .output(unlockLinkOutput)
    .mutation(({ ctx, input }) => unlockLink(ctx.deps, input.token, input.password, ctx.ip)),
});

export const hashtagsRouter = router({
  list: publicProcedure
    .output(hashtagListOutput)
    .query(async ({ ctx }) => ({ results: await listHashtags(ctx.deps.db, ctx.user) })),
});
