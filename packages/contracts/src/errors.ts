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
  /** A sign-in link (from a code message) that is wrong, used, replaced or expired. */
  invalid_link: 400,
  invalid_metadata: 400,
  /** A wrong password for a password-protected private link. */
  invalid_password: 400,
  /**
   * A password protects a file's private link only: setting `link_password` on a public file, or making a file
   * with a password public (single or bulk), is refused and nothing changes. Remove the password first, or send
   * `link_password: null` together with `is_public: true`.
   */
  link_password_requires_private: 400,
  /** tus: an Upload-Checksum that is malformed or names an algorithm the server does not support. */
  invalid_checksum: 400,
  /** tus: an Upload-Concat that names no partial upload of yours (unknown, someone else's, a final one, used). */
  invalid_concat: 400,
  phone_login_disabled: 400,
  /** A passkey answer that does not verify: wrong, replayed, expired, unknown credential or counter gone back. */
  invalid_passkey: 400,
  unauthorized: 401,
  /** The private link asks for its password: POST /api/share/{token}/unlock/. */
  password_required: 401,
  invalid_token: 401,
  token_reused: 401,
  forbidden: 403,
  account_blocked: 403,
  /** ADMIN_REQUIRE_PASSKEY: admin work needs a session that began with a passkey. */
  passkey_required: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  gone: 410,
  precondition_failed: 412,
  payload_too_large: 413,
  quota_exceeded: 413,
  unsupported_media_type: 415,
  range_not_satisfiable: 416,
  /** tus checksum extension: the chunk does not match its Upload-Checksum (it was discarded). */
  checksum_mismatch: 460,
  rate_limited: 429,
  internal_error: 500,
  /** PostgreSQL or Redis is unreachable for the moment: try again shortly (see Retry-After). */
  service_unavailable: 503,
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
