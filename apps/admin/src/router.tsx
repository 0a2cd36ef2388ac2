import { createRouter } from '@tanstack/react-router';
import { ErrorView, NotFound, Pending } from './components/status';
import { queryClient, trpc } from './lib/trpc';
import { routeTree } from './routeTree.gen';

export const router = createRouter({
  routeTree,
  basepath: '/admin',
  context: { queryClient, trpc },
  defaultPreload: 'intent',
  // Freshness is React Query's job; the router always asks it.
  defaultPreloadStaleTime: 0,
  defaultPendingComponent: Pending,
  defaultErrorComponent: ErrorView,
  defaultNotFoundComponent: NotFound,
  defaultPendingMs: 150,
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
