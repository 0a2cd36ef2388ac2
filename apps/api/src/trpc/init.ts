import type { ApiErrorData, ApiErrorShape } from '@tagdrop/contracts';
import { initTRPC } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z } from 'zod';
import { AppError, fieldsFromZod, isOutage, serviceUnavailable, toTRPCError } from '../errors.js';
import type { Context } from './context.js';

type FixedError = { code: ApiErrorData['code']; message: string };
const NOT_JSON: FixedError = { code: 'validation_error', message: 'The request body is not valid JSON.' };
const INTERNAL: FixedError = { code: 'internal_error', message: 'Something went wrong on our side.' };
const FIXED_ERRORS: Partial<Record<TRPC_ERROR_CODE_KEY, FixedError>> = {
  PARSE_ERROR: NOT_JSON,
  BAD_REQUEST: { code: 'bad_request', message: 'The request is not a valid call of this procedure.' },
  NOT_FOUND: { code: 'not_found', message: 'No such procedure.' },
  METHOD_NOT_SUPPORTED: { code: 'method_not_allowed', message: 'Queries use GET, mutations use POST.' },
  PAYLOAD_TOO_LARGE: { code: 'payload_too_large', message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'unsupported_media_type', message: 'Send the input as JSON.' },
  TIMEOUT: { code: 'service_unavailable', message: 'The request took too long. Try again shortly.' },
};

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
    // tRPC's own errors (a body that is not JSON, an unknown procedure, a wrong method, ...): a fixed message per
    // code, never the parser's or the library's text.
    const fixed = cause instanceof SyntaxError ? NOT_JSON : (FIXED_ERRORS[error.code] ?? INTERNAL);
    return {
      ...shape,
      message: fixed.message,
      data: { ...shape.data, stack: undefined, code: fixed.code },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * Turns domain errors into tRPC errors (keeping the AppError as cause for the formatter), a lost PostgreSQL or
 * Redis connection into 503 service_unavailable, and logs the rest.
 */
const errorMapping = t.middleware(async ({ ctx, next, path }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    if (cause instanceof AppError) {
      throw toTRPCError(cause);
    }
    if (isOutage(result.error)) {
      ctx.deps.log.warn({ err: String(cause ?? result.error), path }, 'procedure failed: service unavailable');
      throw toTRPCError(serviceUnavailable(cause));
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
  if (ctx.user.adminNeedsPasskey) {
    throw toTRPCError(
      new AppError('passkey_required', 'Admin work needs a session that began with a passkey. Sign in with one.'),
    );
  }
  if (ctx.user.role !== 'admin') throw toTRPCError(new AppError('forbidden', 'Only administrators may do this.'));
  return next({ ctx });
});
