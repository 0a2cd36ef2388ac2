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
  503: 'SERVICE_UNAVAILABLE',
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

/** Seconds a client is asked to wait (Retry-After) when PostgreSQL or Redis is away. */
export const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** Node socket errors of a server that is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/**
 * PostgreSQL SQLSTATEs of a server going away: 08xxx connection exceptions, 57P01 admin_shutdown, 57P02
 * crash_shutdown, 57P03 cannot_connect_now (starting up or shutting down), 53300 too_many_connections.
 */
const PG_STATES = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
/** Messages pg and ioredis use for a lost or missing connection (they carry no code). */
const OUTAGE_MESSAGES = [
  /^Connection terminated/, // pg: the server closed the socket (restart, admin command, network)
  /^timeout exceeded when trying to connect$/, // pg-pool connectionTimeoutMillis
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/, // shutting down
  /^Stream isn't writeable and enableOfflineQueue options is false$/, // ioredis while disconnected
  /^Connection is closed\.$/, // ioredis
  /^Command timed out$/, // ioredis commandTimeout
  /^Redis connection is not ready$/, // rate-limiter-flexible rejectIfRedisNotReady
  /^(LOADING|CLUSTERDOWN|MASTERDOWN|TRYAGAIN) /, // Redis starting, failing over or resharding
  /^Failed to refresh slots cache/, // ioredis Cluster with no node reachable
  /^Cluster isn't ready and enableOfflineQueue options is false$/,
];
const OUTAGE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/**
 * Whether an error means PostgreSQL or Redis is unreachable right now (rather than a bug or bad input): such
 * errors become 503 service_unavailable, and the request can be retried once the server is back.
 */
export function isOutage(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 3) return false;
  const { code } = err as { code?: unknown };
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || PG_STATES.test(code))) return true;
  if (OUTAGE_NAMES.has(err.name) || OUTAGE_MESSAGES.some((re) => re.test(err.message))) return true;
  if (err instanceof AggregateError && err.errors.some((e) => isOutage(e, depth + 1))) return true;
  return isOutage(err.cause, depth + 1);
}

export const serviceUnavailable = (cause?: unknown) =>
  new AppError('service_unavailable', 'The service is unavailable for a moment. Try again shortly.', {
    retryAfterSeconds: OUTAGE_RETRY_AFTER_SECONDS,
    cause,
  });

/** The AppError an error stands for: itself, a validation error, service_unavailable for an outage, or undefined. */
export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof z.ZodError) return validationError(err);
  if (isOutage(err)) return serviceUnavailable(err);
  return undefined;
}

/**
 * The one formatter for every error leaving the API: known errors keep their code and message, a lost
 * PostgreSQL or Redis connection is a 503 service_unavailable, anything else becomes a generic internal_error
 * (no stack trace, no internals ever reach a client).
 */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const err = toAppError(error);
  if (err) {
    const headers: Record<string, string> = { ...err.headers };
    if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
    return {
      status: err.status,
      headers,
      body: { error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } },
    };
  }
  return {
    status: 500,
    headers: {},
    body: { error: { code: 'internal_error', message: 'Something went wrong on our side.' } },
  };
}
