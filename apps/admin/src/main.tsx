// First: zod without generated code, so nothing trips the pages' CSP (no 'unsafe-eval').
import '@tagdrop/contracts/strict-csp';
import { QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { auth } from './lib/auth';
import { queryClient } from './lib/trpc';
import { router } from './router';
import './styles.css';

// Logged out (here, in another tab, or because the session died): drop cached data and re-check the current
// route, whose `_auth` guard then sends the admin to the login page. (Logging in navigates by itself.)
auth.subscribe(() => {
  if (auth.hasSession()) return;
  queryClient.clear();
  void router.invalidate();
});
window.addEventListener('storage', (event) => {
  if (event.key === null || event.key === 'tagdrop-admin-refresh') {
    if (!event.newValue) {
      auth.forget();
      queryClient.clear();
      void router.invalidate();
    }
  }
});

const root = document.getElementById('root');
if (!root) throw new Error('no #root element');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
