import {
  detailOutput,
  fileIdInput,
  fileListOutput,
  fileSchema,
  hashtagListOutput,
  listFilesInput,
  updateFileInput,
} from '@tagdrop/contracts';
import { z } from 'zod';
import { protectedProcedure, publicProcedure, router } from '../../trpc/init.js';
import * as files from './files.service.js';
import { listHashtags } from './hashtags.service.js';

export const filesRouter = router({
  list: protectedProcedure
    .input(listFilesInput)
    .output(fileListOutput)
    .query(({ ctx, input }) =>
      files.listFiles(ctx.deps, { kind: 'own', user: ctx.user }, input, ctx.user, ctx.baseUrl),
    ),
  get: protectedProcedure
    .input(fileIdInput)
    .output(fileSchema)
    .query(({ ctx, input }) => files.getFile(ctx.deps, ctx.user, input.id, ctx.baseUrl)),
  update: protectedProcedure
    .input(fileIdInput.extend(updateFileInput.shape))
    .output(fileSchema)
    .mutation(({ ctx, input: { id, ...changes } }) => files.updateFile(ctx.deps, ctx.user, id, changes, ctx.baseUrl)),
  delete: protectedProcedure
    .input(fileIdInput)
    .output(detailOutput)
    .mutation(({ ctx, input }) => files.deleteFile(ctx.deps, ctx.user, input.id)),
  rotateLink: protectedProcedure
    .input(fileIdInput)
    .output(fileSchema)
    .mutation(({ ctx, input }) => files.rotateLink(ctx.deps, ctx.user, input.id, ctx.baseUrl)),
});

export const publicRouter = router({
  list: publicProcedure
    .input(listFilesInput)
    .output(fileListOutput)
    .query(({ ctx, input }) => files.listFiles(ctx.deps, { kind: 'public' }, input, ctx.user, ctx.baseUrl)),
  get: publicProcedure
    .input(fileIdInput)
    .output(fileSchema)
    .query(({ ctx, input }) => files.getPublicFile(ctx.deps, input.id, ctx.user, ctx.baseUrl)),
  byToken: publicProcedure
    .input(z.object({ token: z.string().min(1).max(100) }))
    .output(fileSchema)
    .query(({ ctx, input }) => files.getSharedFile(ctx.deps, input.token, ctx.user, ctx.baseUrl)),
});

export const hashtagsRouter = router({
  list: publicProcedure
    .output(hashtagListOutput)
    .query(async ({ ctx }) => ({ results: await listHashtags(ctx.deps.db, ctx.user) })),
});
