import { useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute, Link, Outlet, redirect, useNavigate } from '@tanstack/react-router';
import { auth } from '../lib/auth';
import { identity } from '../lib/format';
import { adminGateQuery, meQuery } from '../lib/queries';
import { errorCode } from '../lib/trpc';

const SESSION_GONE = new Set(['unauthorized', 'invalid_token', 'token_reused', 'account_blocked']);

/** Every console page needs an admin session; without one, log in and come back afterwards. */
export const Route = createFileRoute('/_auth')({
  beforeLoad: async ({ context, location }) => {
    const toLogin = (reason?: 'admins-only' | 'ended') =>
      redirect({ to: '/login', search: { redirect: location.href, reason } });
    if (!auth.hasSession()) throw toLogin();
    const me = await context.queryClient.ensureQueryData(meQuery()).catch((err: unknown) => {
      const code = errorCode(err);
      if (code && SESSION_GONE.has(code)) {
        auth.forget();
        throw toLogin('ended');
      }
      throw err;
    });
    if (me.role !== 'admin') {
      await auth.logout();
      context.queryClient.clear();
      throw redirect({ to: '/login', search: { reason: 'admins-only' } });
    }
    // ADMIN_REQUIRE_PASSKEY: a session that began with a code may not do admin work; guide the admin to a passkey.
    await context.queryClient.ensureQueryData(adminGateQuery()).catch((err: unknown) => {
      if (errorCode(err) === 'passkey_required')
        throw redirect({ to: '/passkey', search: { redirect: location.href } });
      throw err;
    });
  },
  component: Layout,
});

const sections = [
  { to: '/users', label: 'Users' },
  { to: '/files', label: 'Files' },
  { to: '/hashtags', label: 'Hashtags' },
  { to: '/stats', label: 'Statistics' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/audit', label: 'Audit log' },
] as const;

function Layout() {
  const { data: me } = useSuspenseQuery(meQuery());
  const navigate = useNavigate();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/users" className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Tagdrop admin
        </Link>
        <nav aria-label="Sections">
          <ul>
            {sections.map((s) => (
              <li key={s.to}>
                <Link to={s.to} activeProps={{ 'aria-current': 'page', className: 'active' }}>
                  {s.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="whoami">
          <span title="Logged in as">{identity(me)}</span>
          <button
            type="button"
            onClick={async () => {
              await auth.logout();
              await navigate({ to: '/login' });
            }}
          >
            Log out
          </button>
        </div>
      </header>
      <main id="main" className="content">
        <Outlet />
      </main>
    </div>
  );
}
