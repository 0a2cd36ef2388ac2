/**
 * A browser login session for Tagdrop: the access token lives in memory only, the refresh token in
 * localStorage under `storageKey`, so a reload (or another tab) stays logged in. Refresh tokens are single use
 * and reusing an old one ends the whole session, so at most one refresh runs at a time: one shared promise per
 * tab, and a Web Lock across tabs (inside it the newest stored token is read again, as another tab may have
 * rotated it meanwhile). Used by both Tagdrop SPAs; usable by any browser integrator.
 */
import { createTRPCClient, httpBatchLink, httpLink, isTRPCClientError, retryLink, type TRPCLink } from '@trpc/client';
import type { AppRouter } from './router-type.js';
import type { TokenPair } from './schemas/auth.js';

/** Error codes that mean "these credentials are no good": refresh once and retry, else log in again. */
export const AUTH_ERROR_CODES: ReadonlySet<string> = new Set(['unauthorized', 'invalid_token']);
/** Codes of a failed refresh after which the session cannot be saved. */
const DEAD_SESSION_CODES: ReadonlySet<string> = new Set([
  'unauthorized',
  'invalid_token',
  'token_reused',
  'account_blocked',
]);

export interface BrowserSessionOptions {
  /** Where the refresh token is kept (one key per app, never shared). */
  storageKey: string;
  /** Base URL of the Tagdrop instance; '' (the default) means the page's own origin. */
  url?: string;
  /** Refresh this many seconds before the access token expires (default 20). */
  refreshMarginSeconds?: number;
}

export interface BrowserSession {
  /** A refresh token is stored (the access token may still need refreshing). */
  hasSession(): boolean;
  /** The access token currently in memory. */
  current(): string | undefined;
  /** The stored refresh token. */
  refreshToken(): string | null;
  /** Keeps a fresh pair (after verifyOtp or a refresh). */
  setTokens(pair: TokenPair): void;
  /**
   * Gets a new access token; concurrent callers share one request. A caller whose request failed with `stale`
   * gets the newer token at once when someone else already refreshed. Resolves to undefined when the session
   * is gone; rejects on network trouble (the session is kept).
   */
  refresh(stale?: string): Promise<string | undefined>;
  /** The token to send now: waits for a running refresh, refreshes when missing or about to expire. */
  accessToken(): Promise<string | undefined>;
  /** Ends the session on the server (best effort) and forgets the tokens. */
  logout(): Promise<void>;
  /** Ends a session on the server that this app will not keep (e.g. a non-admin in the admin console). */
  endSession(refresh: string): Promise<void>;
  /** Forgets the tokens without calling the server (the session is already gone). */
  forget(): void;
  /** Called whenever the user logs in or out (in this tab or another). */
  subscribe(listener: () => void): () => void;
  /**
   * tRPC links for an app client: requests carry the current access token; on an auth error the tokens are
   * refreshed once (shared by every request that failed together) and the request is retried once; a blocked
   * account's session is forgotten.
   */
  links(): TRPCLink<AppRouter>[];
}

/** The machine-readable code of a Tagdrop API error (`error.data.code`), if any. */
export const errorCodeOf = (err: unknown): string | undefined =>
  isTRPCClientError(err) ? (err.data as { code?: string } | undefined)?.code : undefined;
const codeOf = errorCodeOf;

/** Seconds until the JWT expires, or undefined if it cannot be read. */
function secondsLeft(jwt: string): number | undefined {
  try {
    const part = jwt.split('.')[1] ?? '';
    const payload = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return payload.exp === undefined ? undefined : payload.exp - Date.now() / 1000;
  } catch {
    return undefined;
  }
}

export function createBrowserSession(options: BrowserSessionOptions): BrowserSession {
  const { storageKey } = options;
  const base = (options.url ?? '').replace(/\/+$/, '');
  const margin = options.refreshMarginSeconds ?? 20;
  let access: string | undefined;
  let refreshing: Promise<string | undefined> | null = null;
  const listeners = new Set<() => void>();
  // A bare client for refresh and logout: no auth header, so it can never recurse into a refresh.
  const bare = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${base}/trpc` })],
  });

  const read = (): string | null => {
    try {
      return localStorage.getItem(storageKey);
    } catch {
      return null;
    }
  };
  const write = (value: string | null) => {
    try {
      if (value) localStorage.setItem(storageKey, value);
      else localStorage.removeItem(storageKey);
    } catch {
      // Storage unavailable (private mode): the session lasts as long as the tab.
    }
  };
  const emit = () => {
    for (const listener of listeners) listener();
  };
  const forget = () => {
    const had = access !== undefined || read() !== null;
    access = undefined;
    write(null);
    if (had) emit();
  };
  const withLock = async <T>(fn: () => Promise<T>): Promise<T> =>
    typeof navigator !== 'undefined' && navigator.locks
      ? ((await navigator.locks.request(`${storageKey}:refresh`, fn)) as T)
      : fn();

  const doRefresh = () =>
    withLock(async () => {
      const token = read();
      if (!token) {
        forget();
        return undefined;
      }
      try {
        const pair = await bare.auth.refresh.mutate({ refresh: token });
        access = pair.access;
        write(pair.refresh);
        return pair.access;
      } catch (err) {
        const code = codeOf(err);
        if (code && DEAD_SESSION_CODES.has(code)) {
          // Forget the stored token only if no other tab replaced it meanwhile.
          if (read() === token) forget();
          else access = undefined;
          return undefined;
        }
        throw err;
      }
    });

  const session: BrowserSession = {
    hasSession: () => read() !== null,
    current: () => access,
    refreshToken: read,
    setTokens(pair) {
      access = pair.access;
      write(pair.refresh);
      emit();
    },
    refresh(stale) {
      if (stale !== undefined && access !== undefined && access !== stale) return Promise.resolve(access);
      refreshing ??= doRefresh().finally(() => {
        refreshing = null;
      });
      return refreshing;
    },
    async accessToken() {
      if (refreshing) return refreshing.catch(() => access);
      if (access) {
        const left = secondsLeft(access);
        if (left === undefined || left > margin) return access;
      }
      if (!read()) return undefined;
      return session.refresh().catch(() => access);
    },
    async logout() {
      const refresh = read();
      forget();
      if (refresh) await bare.auth.logout.mutate({ refresh }).catch(() => undefined);
    },
    async endSession(refresh) {
      await bare.auth.logout.mutate({ refresh }).catch(() => undefined);
    },
    forget,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    links() {
      return [
        retryLink({
          retry({ error, attempts }) {
            const code = codeOf(error);
            if (code === 'account_blocked') forget();
            if (attempts > 1 || !code || !AUTH_ERROR_CODES.has(code) || !read()) return false;
            // The retried request waits for this refresh in its headers() (accessToken shares it).
            void session.refresh().catch(() => undefined);
            return true;
          },
        }),
        httpBatchLink({
          url: `${base}/trpc`,
          async headers() {
            const token = await session.accessToken();
            return token ? { authorization: `Bearer ${token}` } : {};
          },
        }),
      ];
    },
  };

  if (typeof window !== 'undefined') {
    // Another tab logged in or out: follow it.
    window.addEventListener('storage', (e) => {
      if (e.key !== storageKey) return;
      if (!e.newValue) access = undefined;
      emit();
    });
  }
  return session;
}
