/**
 * Admin session tokens. The access token lives in memory only; the refresh token is kept in localStorage under
 * its own key (never shared with the user app), so a reload stays logged in. Refresh tokens are single use and
 * reusing one ends the session, so only one refresh runs at a time: one shared promise per tab, and a Web Lock
 * across tabs (inside it the newest stored token is read again, as another tab may have rotated it meanwhile).
 */
import type { TokenPair } from '@tagdrop/contracts';
import type { AppRouter } from '@tagdrop/contracts/client';
import { createTRPCClient, httpLink, isTRPCClientError } from '@trpc/client';

export const REFRESH_KEY = 'tagdrop-admin-refresh';

/** Codes that mean "these credentials are no good": refresh once and retry, else log in again. */
export const AUTH_ERROR_CODES: ReadonlySet<string> = new Set(['unauthorized', 'invalid_token']);
/** Codes of a refresh after which the session cannot be saved. */
const DEAD_SESSION_CODES: ReadonlySet<string> = new Set([
  'unauthorized',
  'invalid_token',
  'token_reused',
  'account_blocked',
]);

let access: string | undefined;
let refreshing: Promise<string | undefined> | null = null;
const listeners = new Set<() => void>();

/** A bare client for refresh and logout: no auth link, so it can never recurse into a refresh. */
const bare = createTRPCClient<AppRouter>({ links: [httpLink({ url: '/trpc' })] });

function readRefresh(): string | null {
  try {
    return localStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

function writeRefresh(value: string | null) {
  try {
    if (value) localStorage.setItem(REFRESH_KEY, value);
    else localStorage.removeItem(REFRESH_KEY);
  } catch {
    // Storage unavailable: the session lasts as long as the tab.
  }
}

const emit = () => {
  for (const listener of listeners) listener();
};

const codeOf = (err: unknown) =>
  isTRPCClientError(err) ? (err.data as { code?: string } | undefined)?.code : undefined;

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

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  if (typeof navigator !== 'undefined' && navigator.locks) return (await navigator.locks.request(REFRESH_KEY, fn)) as T;
  return fn();
}

function clear() {
  const had = access !== undefined || readRefresh() !== null;
  access = undefined;
  writeRefresh(null);
  if (had) emit();
}

async function doRefresh(): Promise<string | undefined> {
  return withLock(async () => {
    const token = readRefresh();
    if (!token) {
      clear();
      return undefined;
    }
    try {
      const pair = await bare.auth.refresh.mutate({ refresh: token });
      access = pair.access;
      writeRefresh(pair.refresh);
      return pair.access;
    } catch (err) {
      const code = codeOf(err);
      if (code && DEAD_SESSION_CODES.has(code)) {
        // Forget the stored token only if no other tab replaced it meanwhile.
        if (readRefresh() === token) clear();
        else access = undefined;
        return undefined;
      }
      throw err; // network trouble: keep the session, let the caller show the error
    }
  });
}

export const auth = {
  /** A refresh token is stored (the access token may still need refreshing). */
  hasSession(): boolean {
    return readRefresh() !== null;
  },
  /** The access token currently in memory. */
  current(): string | undefined {
    return access;
  },
  setTokens(pair: TokenPair) {
    access = pair.access;
    writeRefresh(pair.refresh);
    emit();
  },
  /**
   * Gets a new access token. Concurrent callers share one request; a caller whose failed request used `stale`
   * gets the newer token at once when someone else already refreshed.
   */
  refresh(stale?: string): Promise<string | undefined> {
    if (stale !== undefined && access !== undefined && access !== stale) return Promise.resolve(access);
    if (!refreshing) {
      refreshing = doRefresh().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  },
  /** The token to send now: waits for a running refresh; refreshes when missing or about to expire. */
  async accessToken(): Promise<string | undefined> {
    if (refreshing) return refreshing;
    if (access) {
      const left = secondsLeft(access);
      if (left === undefined || left > 20) return access;
    }
    if (!readRefresh()) return undefined;
    return auth.refresh();
  },
  /** Ends the session on the server (best effort) and forgets the tokens. */
  async logout(): Promise<void> {
    const refresh = readRefresh();
    clear();
    if (refresh) await bare.auth.logout.mutate({ refresh }).catch(() => undefined);
  },
  /** Ends a session that was never kept (a non-admin who logged in here). */
  async endSession(refresh: string): Promise<void> {
    await bare.auth.logout.mutate({ refresh }).catch(() => undefined);
  },
  /** Forgets the tokens without calling the server (the session is already gone). */
  forget(): void {
    clear();
  },
  /** Called whenever the user logs in or out. */
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
