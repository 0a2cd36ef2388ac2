/**
 * Session tokens. The access token lives in memory only; the refresh token is kept in localStorage under one key so
 * a reload (or another tab) stays logged in. Refresh tokens are single use and rotate, and reusing an old one kills
 * the session, so at most one refresh runs at a time: one promise per tab, and a Web Lock across tabs.
 */
import type { TokenPair } from '@tagdrop/contracts';
import type { AppRouter } from '@tagdrop/contracts/client';
import { createTRPCClient, httpLink, isTRPCClientError } from '@trpc/client';

export const REFRESH_KEY = 'tagdrop.refresh';

/** Error codes that mean "your credentials are no good": refresh once, else log in again. */
export const AUTH_ERROR_CODES = new Set(['unauthorized', 'invalid_token']);
/** Codes of a failed refresh after which the session cannot be saved. */
const DEAD_SESSION_CODES = new Set(['unauthorized', 'invalid_token', 'token_reused', 'account_blocked', 'not_found']);

type Listener = () => void;

let access: string | undefined;
let refreshing: Promise<string | undefined> | null = null;
const listeners = new Set<Listener>();

/** A bare client for the refresh call: no auth header, no retry (it must not recurse into itself). */
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
    // storage unavailable (private mode): the session lasts as long as the tab
  }
}

function emit() {
  for (const l of listeners) l();
}

/** Seconds until the JWT expires (negative when expired), or undefined when it cannot be read. */
function secondsLeft(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return payload.exp === undefined ? undefined : payload.exp - Date.now() / 1000;
  } catch {
    return undefined;
  }
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  if (typeof navigator !== 'undefined' && navigator.locks) {
    return navigator.locks.request('tagdrop-refresh', fn);
  }
  return fn();
}

async function doRefresh(): Promise<string | undefined> {
  const before = readRefresh();
  return withLock(async () => {
    // Another tab may have rotated the token while we waited for the lock: use the newest one.
    const token = readRefresh();
    if (!token) {
      setLoggedOut();
      return undefined;
    }
    try {
      const pair = await bare.auth.refresh.mutate({ refresh: token });
      setTokens(pair);
      return pair.access;
    } catch (err) {
      const code = isTRPCClientError(err) ? (err.data as { code?: string } | undefined)?.code : undefined;
      if (code && DEAD_SESSION_CODES.has(code)) {
        // Only forget the stored token if nobody replaced it meanwhile.
        if (readRefresh() === token || readRefresh() === before) setLoggedOut();
        return undefined;
      }
      throw err;
    }
  });
}

function setLoggedOut() {
  const had = access !== undefined || readRefresh() !== null;
  access = undefined;
  writeRefresh(null);
  if (had) emit();
}

export function setTokens(pair: TokenPair) {
  access = pair.access;
  writeRefresh(pair.refresh);
  emit();
}

export const auth = {
  /** True while a refresh token is stored (the access token may still need refreshing). */
  isLoggedIn(): boolean {
    return readRefresh() !== null;
  },
  refreshToken(): string | null {
    return readRefresh();
  },
  /** Refreshes the tokens; concurrent callers share one request. Resolves to the new access token or undefined. */
  refresh(): Promise<string | undefined> {
    if (!refreshing) {
      refreshing = doRefresh().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  },
  /** The access token to send now: waits for a running refresh, refreshes when missing or about to expire. */
  async accessToken(): Promise<string | undefined> {
    if (refreshing) return refreshing.catch(() => access);
    if (!readRefresh()) return access;
    const left = access ? secondsLeft(access) : undefined;
    if (!access || (left !== undefined && left < 20)) return this.refresh().catch(() => access);
    return access;
  },
  setTokens,
  /** Forgets the tokens in this tab and in storage. */
  clear: setLoggedOut,
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

if (typeof window !== 'undefined') {
  // Another tab logged out or in: follow it.
  window.addEventListener('storage', (e) => {
    if (e.key !== REFRESH_KEY) return;
    if (!e.newValue) access = undefined;
    emit();
  });
}
