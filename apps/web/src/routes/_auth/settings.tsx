import { useMutation, useQueryClient, useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute, useNavigate } from '@tanstack/react-router';
import { PasskeysPanel } from '../../components/passkeys';
import { auth } from '../../lib/auth';
import { formatDate } from '../../lib/format';
import { errorMessage, trpc } from '../../lib/trpc';

export const Route = createFileRoute('/_auth/settings')({
  loader: ({ context }) =>
    Promise.all([
      context.queryClient.ensureQueryData(trpc.auth.me.queryOptions()),
      context.queryClient.ensureQueryData(trpc.auth.sessions.queryOptions()),
      context.queryClient.ensureQueryData(trpc.passkeys.list.queryOptions()),
    ]),
  component: Settings,
});

/** "Mozilla/5.0 (X11; Linux x86_64) … Chrome/140 …" → "Chrome on Linux" */
function describeAgent(ua: string | null): string {
  if (!ua) return 'Unknown device';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : ua.split(' ')[0]!;
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return os ? `${browser} on ${os}` : browser;
}

function Settings() {
  const { data: me } = useSuspenseQuery(trpc.auth.me.queryOptions());
  const { data: sessions } = useSuspenseQuery(trpc.auth.sessions.queryOptions());
  const queryClient = useQueryClient();
  const navigate = useNavigate();

  const revoke = useMutation(
    trpc.auth.revokeSession.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.auth.sessions.queryKey() }),
    }),
  );
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: async () => {
        auth.forget();
        queryClient.clear();
        await navigate({ to: '/otp-login' });
      },
    }),
  );

  return (
    <div className="settings">
      <h1>Settings</h1>
      <section className="panel" aria-labelledby="account-title">
        <h2 id="account-title">Account</h2>
        <dl className="facts">
          {me.email ? (
            <>
              <dt>Email</dt>
              <dd data-testid="me-email">{me.email}</dd>
            </>
          ) : null}
          {me.phone ? (
            <>
              <dt>Phone</dt>
              <dd>{me.phone}</dd>
            </>
          ) : null}
          <dt>Role</dt>
          <dd>{me.role}</dd>
          <dt>Member since</dt>
          <dd>{formatDate(me.created_at)}</dd>
        </dl>
        <button
          type="button"
          className="secondary"
          disabled={logout.isPending}
          onClick={() => logout.mutate({ refresh: auth.refreshToken() ?? undefined })}
        >
          {logout.isPending ? 'Logging out…' : 'Log out'}
        </button>
      </section>
      <PasskeysPanel />
      <section className="panel" aria-labelledby="sessions-title">
        <h2 id="sessions-title">Sessions</h2>
        <p className="muted small">Devices logged in to your account. Revoke any you don't recognise.</p>
        <ul className="sessions">
          {sessions.results.map((s) => (
            <li key={s.id} className="session" data-testid="session">
              <div>
                <strong>{describeAgent(s.user_agent)}</strong>
                {s.current ? <span className="badge public">This device</span> : null}
                <p className="muted small">
                  {s.method === 'passkey' ? 'signed in with a passkey' : 'signed in with a code'} ·{' '}
                  {s.ip ?? 'unknown IP'} · last used {formatDate(s.last_used_at)} · since {formatDate(s.created_at)}
                </p>
              </div>
              {s.current ? null : (
                <button
                  type="button"
                  className="small danger"
                  disabled={revoke.isPending}
                  onClick={() => revoke.mutate({ id: s.id })}
                >
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
        {revoke.isError ? (
          <p className="error" role="alert">
            {errorMessage(revoke.error)}
          </p>
        ) : null}
      </section>
    </div>
  );
}
