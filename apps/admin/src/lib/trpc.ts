import type { AppRouter } from '@tagdrop/contracts/client';
import { errorCodeOf } from '@tagdrop/contracts/session';
import { QueryClient } from '@tanstack/react-query';
import { createTRPCClient, isTRPCClientError } from '@trpc/client';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { auth } from './auth';

/** The machine-readable code of an API error (`error.data.code`), if any. */
export const errorCode = errorCodeOf;

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

export const trpcClient = createTRPCClient<AppRouter>({ links: auth.links() });

export const trpc = createTRPCOptionsProxy<AppRouter>({ client: trpcClient, queryClient });
export type Trpc = typeof trpc;
