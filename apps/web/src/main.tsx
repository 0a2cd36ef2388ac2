// First: zod without generated code, so nothing trips the pages' CSP (no 'unsafe-eval').
import '@tagdrop/contracts/strict-csp';
import { QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { auth } from './lib/auth';
import { queryClient } from './lib/trpc';
import { uploadStore } from './lib/uploads';
import { router } from './router';
import './styles.css';

// Logged out (here, in another tab, or because the session died): drop cached data and re-check the current
// route, whose `_auth` guard then sends the person to the login page.
let wasLoggedIn = auth.hasSession();
auth.subscribe(() => {
  const now = auth.hasSession();
  if (wasLoggedIn && !now) queryClient.clear();
  if (wasLoggedIn !== now) void router.invalidate();
  wasLoggedIn = now;
});

uploadStore.onFinished(() => {
  void queryClient.invalidateQueries();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
