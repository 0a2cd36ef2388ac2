import type { AppDeps } from '../deps.types.js';
import type { AppError } from '../errors.js';
import type { AuthUser } from '../modules/auth/auth.service.js';

export interface ContextInner {
  deps: AppDeps;
  user: AuthUser | null;
  /** Set when a Bearer token was sent but did not verify; protected procedures throw it. */
  authError: AppError | null;
  ip: string;
  userAgent: string | undefined;
  /** Base URL for links in responses: PUBLIC_URL, or the listening address (never the request's Host). */
  baseUrl: string;
}

/** Pure: everything a procedure needs, with no knowledge of HTTP. Tests build it directly. */
export function createContextInner(inner: Partial<ContextInner> & Pick<ContextInner, 'deps'>): ContextInner {
  return {
    user: null,
    authError: null,
    ip: '127.0.0.1',
    userAgent: undefined,
    ...inner,
    baseUrl: inner.deps.baseUrl,
  };
}

export type Context = ContextInner;
