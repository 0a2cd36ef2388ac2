import type { AppRouter } from '@tagdrop/contracts/client';
import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, isTRPCClientError, type TRPCLink } from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { AUTH_ERROR_CODES, auth } from './auth';

/** The machine-readable code of an API error (`error.data.code`), if any. */
export function errorCode(err: unknown): string | undefined {
  if (isTRPCClientError(err)) return (err.data as { code?: string } | undefined)?.code;
  return undefined;
}

/** A message fit to show a person: the first field message, else the error's own message. */
export function errorMessage(err: unknown): string {
  if (isTRPCClientError(err)) {
    const fields = (err.data as { fields?: Record<string, string[]> } | undefined)?.fields;
    const first = fields ? Object.values(fields).flat()[0] : undefined;
    return first && first !== 'Invalid input' ? `${err.message} ${first}.` : err.message;
  }
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

/**
 * On an auth error (expired or revoked access token): refresh once, shared by every request that failed
 * together, then retry the request once. A second failure goes to the caller (and the app logs out).
 */
const refreshLink: TRPCLink<AppRouter> =
  () =>
  ({ op, next }) =>
    observable((observer) => {
      let sub: Unsubscribable | undefined;
      let retried = false;
      const attempt = () => {
        const used = auth.current();
        sub = next(op).subscribe({
          next: (value) => observer.next(value),
          complete: () => observer.complete(),
          error: (err) => {
            const code = errorCode(err);
            if (retried || !code || !AUTH_ERROR_CODES.has(code) || !auth.hasSession()) {
              // The session is gone (or the account blocked): forget it, and the app goes back to the login page.
              if (code && (AUTH_ERROR_CODES.has(code) || code === 'account_blocked')) auth.forget();
              observer.error(err);
              return;
            }
            retried = true;
            auth.refresh(used).then(
              (token) => {
                if (token) attempt();
                else observer.error(err);
              },
              () => observer.error(err),
            );
          },
        });
      };
      attempt();
      return () => sub?.unsubscribe();
    });

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // API errors are answers, not hiccups: only network trouble is retried.
      retry: (count, err) => !errorCode(err) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    refreshLink,
    httpBatchLink({
      url: '/trpc',
      async headers() {
        const token = await auth.accessToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
    }),
  ],
});

export const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
export type Trpc = typeof trpc;
