import type { AppRouter } from '@tagdrop/contracts/client';
import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, isTRPCClientError, retryLink } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { AUTH_ERROR_CODES, auth } from './auth';

/** The machine-readable code of an API error (`error.data.code`), if any. */
export function errorCode(err: unknown): string | undefined {
  if (isTRPCClientError(err)) return (err.data as { code?: string } | undefined)?.code;
  return undefined;
}

/** A message fit to show a person. */
export function errorMessage(err: unknown): string {
  if (isTRPCClientError(err)) {
    const fields = (err.data as { fields?: Record<string, string[]> } | undefined)?.fields;
    const first = fields ? Object.values(fields).flat()[0] : undefined;
    return first ?? err.message;
  }
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: (count, err) => !errorCode(err) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    // On an auth error: refresh once (shared by every request that failed together), then retry the request.
    retryLink({
      retry({ error, attempts }) {
        if (attempts > 1) return false;
        const code = (error.data as { code?: string } | undefined)?.code;
        if (!code || !AUTH_ERROR_CODES.has(code) || !auth.hasSession()) return false;
        void auth.refresh().catch(() => undefined);
        return true;
      },
    }),
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
