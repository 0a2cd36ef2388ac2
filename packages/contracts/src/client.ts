import { createTRPCClient, httpBatchLink, type TRPCClient } from '@trpc/client';
import type { AppRouter } from './router-type.js';

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

interface ResolvedOptions {
  url: string;
  getToken: () => Promise<string | undefined>;
}
const optionsByClient = new WeakMap<object, ResolvedOptions>();

/** The base URL and token source a client was made with (used by uploadFile). */
export function clientOptionsOf(client: TagdropClient): ResolvedOptions {
  const options = optionsByClient.get(client as object);
  if (!options) throw new Error('Not a client made by createTagdropClient');
  return options;
}

/** A tRPC client typed by the server's router: `await client.files.list.query({ hashtag: 'cats' })`. */
export function createTagdropClient(options: TagdropClientOptions): TagdropClient {
  const url = options.url.replace(/\/+$/, '');
  const getToken = async () => (options.getToken ? await options.getToken() : options.token);
  const client = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${url}/trpc`,
        fetch: options.fetch,
        async headers() {
          const token = await getToken();
          return token ? { authorization: `Bearer ${token}` } : {};
        },
      }),
    ],
  });
  optionsByClient.set(client as object, { url, getToken });
  return client;
}
