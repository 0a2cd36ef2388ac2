import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from '../../../apps/api/src/trpc/router.js';

export type { AppRouter };

export interface TagdropClientOptions {
  /** Base URL of the Tagdrop instance, e.g. https://files.example.com */
  url: string;
  /** A fixed access token. */
  token?: string;
  /** Called before each request; return the current access token (or undefined when logged out). */
  getToken?: () => string | undefined | Promise<string | undefined>;
  /** Custom fetch (tests, proxies). */
  fetch?: typeof fetch;
}

export type TagdropClient = TRPCClient<AppRouter>;

/** A tRPC client typed by the server's router: `client.auth.me.query()`. */
export function createTagdropClient(options: TagdropClientOptions): TagdropClient {
  const base = options.url.replace(/\/+$/, '');
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${base}/trpc`,
        fetch: options.fetch,
        async headers() {
          const token = options.getToken ? await options.getToken() : options.token;
          return token ? { authorization: `Bearer ${token}` } : {};
        },
      }),
    ],
  });
}
