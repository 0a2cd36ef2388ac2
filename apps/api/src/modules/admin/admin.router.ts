import {
  adminCreateUserInput,
  adminFileDeleteOutput,
  adminFileIdInput,
  adminFileListInput,
  adminFileListOutput,
  adminHashtagDeleteInput,
  adminHashtagDeleteOutput,
  adminHashtagListInput,
  adminHashtagListOutput,
  adminOverviewOutput,
  adminRevokeSessionsOutput,
  adminSetActiveInput,
  adminSetRoleInput,
  adminUserIdInput,
  adminUserListInput,
  adminUserListOutput,
  adminUserSchema,
  auditListInput,
  auditListOutput,
  jobsOverviewOutput,
} from '@tagdrop/contracts';
import { z } from 'zod';
import { adminProcedure, router } from '../../trpc/init.js';
import * as admin from './admin.service.js';

const actor = (ctx: { user: { id: string }; ip: string }) => ({ id: ctx.user.id, ip: ctx.ip });

/** Admin console procedures (users, files, hashtags, statistics, jobs, audit log); all use adminProcedure. */
export const adminRouter = router({
  /** Instance-wide counts; click statistics are `stats.overview`. */
  overview: adminProcedure
    .input(z.void())
    .output(adminOverviewOutput)
    .query(({ ctx }) => admin.overview(ctx.deps)),
  users: router({
    list: adminProcedure
      .input(adminUserListInput)
      .output(adminUserListOutput)
      .query(({ ctx, input }) => admin.listUsers(ctx.deps, input)),
    get: adminProcedure
      .input(adminUserIdInput)
      .output(adminUserSchema)
      .query(({ ctx, input }) => admin.getUser(ctx.deps, input.id)),
    setActive: adminProcedure
      .input(adminSetActiveInput)
      .output(adminUserSchema)
      .mutation(({ ctx, input }) => admin.setActive(ctx.deps, actor(ctx), input)),
    setRole: adminProcedure
      .input(adminSetRoleInput)
      .output(adminUserSchema)
      .mutation(({ ctx, input }) => admin.setRole(ctx.deps, actor(ctx), input)),
    create: adminProcedure
      .input(adminCreateUserInput)
      .output(adminUserSchema)
      .mutation(({ ctx, input }) => admin.createUser(ctx.deps, actor(ctx), input)),
    revokeSessions: adminProcedure
      .input(adminUserIdInput)
      .output(adminRevokeSessionsOutput)
      .mutation(({ ctx, input }) => admin.revokeUserSessions(ctx.deps, actor(ctx), input.id)),
  }),
  files: router({
    list: adminProcedure
      .input(adminFileListInput)
      .output(adminFileListOutput)
      .query(({ ctx, input }) => admin.listAllFiles(ctx.deps, ctx.user, input, ctx.baseUrl)),
    delete: adminProcedure
      .input(adminFileIdInput)
      .output(adminFileDeleteOutput)
      .mutation(({ ctx, input }) => admin.deleteAnyFile(ctx.deps, ctx.user, input.id)),
  }),
  hashtags: router({
    list: adminProcedure
      .input(adminHashtagListInput)
      .output(adminHashtagListOutput)
      .query(({ ctx, input }) => admin.listAllHashtags(ctx.deps, input)),
    delete: adminProcedure
      .input(adminHashtagDeleteInput)
      .output(adminHashtagDeleteOutput)
      .mutation(({ ctx, input }) => admin.deleteHashtag(ctx.deps, actor(ctx), input.name)),
  }),
  audit: router({
    list: adminProcedure
      .input(auditListInput)
      .output(auditListOutput)
      .query(({ ctx, input }) => admin.listAudit(ctx.deps, input)),
  }),
  jobs: router({
    overview: adminProcedure
      .input(z.void())
      .output(jobsOverviewOutput)
      .query(({ ctx }) => admin.jobsOverview(ctx.deps)),
  }),
});
