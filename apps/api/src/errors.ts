import { type ErrorBody, type ErrorCode, errorStatus } from '@tagdrop/contracts';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z } from 'zod';

export interface AppErrorOptions {
  fields?: Record<string, string[]>;
  retryAfterSeconds?: number;
  cause?: unknown;
  /** Extra response headers (REST), e.g. Tus-Version. */
  headers?: Record<string, string>;
}

/** A domain error: a machine-readable code, a message safe to show, and its HTTP status. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly fields: Record<string, string[]> | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.fields = options.fields;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers;
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

const trpcCodeByStatus: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED',
  409: 'CONFLICT',
  410: 'NOT_FOUND',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'BAD_REQUEST',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  503: 'INTERNAL_SERVER_ERROR',
};

export function toTRPCError(err: AppError): TRPCError {
  return new TRPCError({ code: trpcCodeByStatus[err.status] ?? 'BAD_REQUEST', message: err.message, cause: err });
}

export function fieldsFromZod(error: z.ZodError): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.join('.') : '_';
    const list = fields[key] ?? [];
    list.push(issue.message);
    fields[key] = list;
  }
  return fields;
}

export function validationError(error: z.ZodError): AppError {
  return new AppError('validation_error', 'Some fields are invalid.', { fields: fieldsFromZod(error) });
}

/**
 * The one formatter for every error leaving the API: known errors keep their code and message, anything
 * else becomes a generic internal_error (no stack trace, no internals ever reach a client).
 */
export function toErrorBody(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof AppError) {
    const headers: Record<string, string> = { ...err.headers };
    if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
    return {
      status: err.status,
      headers,
      body: { error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } },
    };
  }
  if (err instanceof z.ZodError) return toErrorBody(validationError(err));
  return {
    status: 500,
    headers: {},
    body: { error: { code: 'internal_error', message: 'Something went wrong on our side.' } },
  };
}
