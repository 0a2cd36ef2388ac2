import {
  detailOutput,
  passkeyIdInput,
  passkeyListOutput,
  passkeyLoginInput,
  passkeyLoginOptionsSchema,
  passkeyRegisterInput,
  passkeyRegistrationOptionsSchema,
  passkeyRenameInput,
  passkeySchema,
  verifyOtpOutput,
} from '@tagdrop/contracts';
import { z } from 'zod';
import { protectedProcedure, publicProcedure, router } from '../../trpc/init.js';
import * as passkeys from './passkeys.service.js';

const meta = (ctx: { ip: string; userAgent: string | undefined }) => ({ ip: ctx.ip, userAgent: ctx.userAgent });
const rp = (ctx: { baseUrl: string }) => passkeys.relyingParty(ctx.baseUrl);

/** Passkeys: add and manage them after logging in; sign in with one (REST twins under /api/passkeys/). */
export const passkeysRouter = router({
  registrationOptions: protectedProcedure
    .input(z.void())
    .output(passkeyRegistrationOptionsSchema)
    .mutation(({ ctx }) => passkeys.registrationOptions(ctx.deps, ctx.user, rp(ctx))),
  register: protectedProcedure
    .input(passkeyRegisterInput)
    .output(passkeySchema)
    .mutation(({ ctx, input }) => passkeys.registerPasskey(ctx.deps, ctx.user, input, rp(ctx), meta(ctx))),
  list: protectedProcedure
    .input(z.void())
    .output(passkeyListOutput)
    .query(async ({ ctx }) => ({ results: await passkeys.listOwnPasskeys(ctx.deps, ctx.user) })),
  rename: protectedProcedure
    .input(passkeyRenameInput)
    .output(passkeySchema)
    .mutation(({ ctx, input }) => passkeys.renamePasskey(ctx.deps, ctx.user, input, meta(ctx))),
  remove: protectedProcedure
    .input(passkeyIdInput)
    .output(detailOutput)
    .mutation(({ ctx, input }) => passkeys.removePasskey(ctx.deps, ctx.user, input.id, meta(ctx))),
  loginOptions: publicProcedure
    .input(z.void())
    .output(passkeyLoginOptionsSchema)
    .mutation(({ ctx }) => passkeys.loginOptions(ctx.deps, rp(ctx), meta(ctx))),
  login: publicProcedure
    .input(passkeyLoginInput)
    .output(verifyOtpOutput)
    .mutation(({ ctx, input }) => passkeys.loginWithPasskey(ctx.deps, input, rp(ctx), meta(ctx))),
});
