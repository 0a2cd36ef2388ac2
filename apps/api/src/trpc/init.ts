import type { ApiErrorShape } from '@tagdrop/contracts';
import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import { AppError, fieldsFromZod, toTRPCError } from '../errors.js';
import type { Context } from './context.js';

/**
 * The one place that defines procedure builders. Their middleware narrows ctx.user;
 * resolvers never check authentication by hand.
 */
const t = initTRPC.context<Context>().create({
  // Never send stack traces to clients.
  isDev: false,
  errorFormatter({ shape, error }): ApiErrorShape {
    const cause = error.cause;
    if (cause instanceof AppError) {
      return {
        ...shape,
        message: cause.message,
        data: {
          ...shape.data,
          stack: undefined,
          code: cause.code,
          httpStatus: cause.status,
          fields: cause.fields,
          retryAfter: cause.retryAfterSeconds,
        },
      };
    }
    if (cause instanceof z.ZodError) {
      return {
        ...shape,
        message: 'Some fields are invalid.',
        data: {
          ...shape.data,
          stack: undefined,
          code: 'validation_error',
          httpStatus: 400,
          fields: fieldsFromZod(cause),
        },
      };
    }
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    return {
      ...shape,
      message: internal ? 'Something went wrong on our side.' : shape.message,
      data: { ...shape.data, stack: undefined, code: internal ? 'internal_error' : 'bad_request' },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Turns domain errors into tRPC errors (keeping the AppError as cause for the formatter) and logs the rest. */
const errorMapping = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) {
      throw toTRPCError(cause);
    }
    if (result.error.code === 'INTERNAL_SERVER_ERROR') {
      ctx.deps.log.error({ err: result.error.cause ?? result.error, path }, 'procedure failed');
    }
  }
  return result;
});

export const publicProcedure = t.procedure.use(errorMapping);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.authError) throw toTRPCError(ctx.authError);
  if (!ctx.user) throw toTRPCError(new AppError('unauthorized', 'Log in first.'));
  return next({ ctx: { ...ctx, user: ctx.user } });
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== 'admin') throw toTRPCError(new AppError('forbidden', 'Only administrators may do this.'));
  return next({ ctx });
});
