import { createFileRoute, Outlet, redirect } from '@tanstack/react-router';
import { auth } from '../lib/auth';

/** Everything under this layout needs a session; without one, go log in and come back afterwards. */
export const Route = createFileRoute('/_auth')({
  beforeLoad: ({ location }) => {
    if (!auth.hasSession()) {
      throw redirect({ to: '/otp-login', search: { redirect: location.href } });
    }
  },
  component: Outlet,
});
