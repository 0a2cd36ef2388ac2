import type { TRPC_ERROR_CODE_NUMBER } from '@trpc/server';

/**
 * Every error the API returns carries one of these machine-readable codes, in
 * `{"error": {"code", "message", "fields"?}}` over REST and in `error.data.code` over tRPC.
 */
export const errorStatus = {
  validation_error: 400,
  invalid_email: 400,
  invalid_phone: 400,
  invalid_otp: 400,
  invalid_metadata: 400,
  unauthorized: 401,
  invalid_token: 401,
  token_reused: 401,
  forbidden: 403,
  account_blocked: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  payload_too_large: 413,
  quota_exceeded: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export const errorCodes = Object.keys(errorStatus) as ErrorCode[];

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** Per-field messages for validation errors, keyed by dotted path. */
    fields?: Record<string, string[]>;
  };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in errorStatus;
}

/** `error.data` of a tRPC error from the Tagdrop API. */
export type ApiErrorData = {
  /** Machine-readable code (the same as REST's `error.code`). */
  code: ErrorCode | 'bad_request';
  httpStatus: number;
  fields?: Record<string, string[]> | undefined;
  /** Seconds to wait, for `rate_limited`. */
  retryAfter?: number | undefined;
  path?: string | undefined;
  stack?: undefined;
};

/** The error shape of every tRPC error from the Tagdrop API. */
// (Type aliases, not interfaces: tRPC requires the shape to be assignable to a plain record.)
export type ApiErrorShape = {
  message: string;
  /** JSON-RPC error code. */
  code: TRPC_ERROR_CODE_NUMBER;
  data: ApiErrorData;
};
