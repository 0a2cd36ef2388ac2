import {
  detailOutput,
  logoutInput,
  refreshInput,
  refreshOutput,
  requestOtpInput,
  requestOtpOutput,
  revokeSessionInput,
  sessionListOutput,
  userSchema,
  verifyOtpInput,
  verifyOtpLinkInput,
  verifyOtpOutput,
} from '@tagdrop/contracts';
import { protectedProcedure, publicProcedure, router } from '../../trpc/init.js';
import * as auth from './auth.service.js';

const meta = (ctx: { ip: string; userAgent: string | undefined }) => ({ ip: ctx.ip, userAgent: ctx.userAgent });

export const authRouter = router({
  requestOtp: publicProcedure
    .input(requestOtpInput)
    .output(requestOtpOutput)
    .mutation(({ ctx, input }) => auth.requestOtp(ctx.deps, input, meta(ctx))),
  verifyOtp: publicProcedure
    .input(verifyOtpInput)
    .output(verifyOtpOutput)
    .mutation(({ ctx, input }) => auth.verifyOtp(ctx.deps, input, meta(ctx))),
  /** The sign-in link of a code message (its `#token=`): the same answer as verifyOtp, limited per IP only. */
  verifyOtpLink: publicProcedure
    .input(verifyOtpLinkInput)
    .output(verifyOtpOutput)
    .mutation(({ ctx, input }) => auth.verifyOtpLink(ctx.deps, input, meta(ctx))),
  refresh: publicProcedure
    .input(refreshInput)
    .output(refreshOutput)
    .mutation(({ ctx, input }) => auth.refreshTokens(ctx.deps, input.refresh, meta(ctx))),
  logout: publicProcedure
    .input(logoutInput)
    .output(detailOutput)
    .mutation(({ ctx, input }) => auth.logout(ctx.deps, { session: ctx.user, refresh: input.refresh }, meta(ctx))),
  me: protectedProcedure.output(userSchema).query(({ ctx }) => auth.getMe(ctx.deps, ctx.user.id)),
  sessions: protectedProcedure
    .output(sessionListOutput)
    .query(async ({ ctx }) => ({ results: await auth.listSessions(ctx.deps, ctx.user) })),
  revokeSession: protectedProcedure
    .input(revokeSessionInput)
    .output(detailOutput)
    .mutation(({ ctx, input }) => auth.revokeOwnSession(ctx.deps, ctx.user, input.id)),
});
