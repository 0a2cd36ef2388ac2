import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { trpc } from '../lib/trpc';
import { useLoggedIn } from '../lib/use-auth';

export function Header() {
  const loggedIn = useLoggedIn();
  const me = useQuery({ ...trpc.auth.me.queryOptions(), enabled: loggedIn });
  const who = me.data?.email ?? me.data?.phone;
  return (
    <header className="site-header">
      <nav className="container nav" aria-label="Main">
        <Link to="/" className="brand">
          <span aria-hidden="true">#</span>tagdrop
        </Link>
        <ul>
          <li>
            <Link to="/" activeOptions={{ exact: true }}>
              Gallery
            </Link>
          </li>
          {loggedIn ? (
            <>
              <li>
                <Link to="/files">My files</Link>
              </li>
              <li>
                <Link to="/settings" title={who ?? undefined}>
                  Settings
                </Link>
              </li>
            </>
          ) : (
            <li>
              <Link to="/otp-login" className="button small">
                Log in
              </Link>
            </li>
          )}
        </ul>
        {loggedIn && who ? (
          <span className="who" data-testid="who">
            {who}
          </span>
        ) : null}
      </nav>
    </header>
  );
}
