import type { AdminUserDto, Role } from '@tagdrop/contracts';
import { useMutation, useQueryClient, useSuspenseInfiniteQuery, useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute, Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { Flash } from '../../components/status';
import { formatBytes, formatDate, identity } from '../../lib/format';
import { meQuery, type UserFilters, usersQuery } from '../../lib/queries';
import { errorMessage, trpc } from '../../lib/trpc';

type Status = 'active' | 'blocked';

interface UsersSearch {
  q?: string;
  role?: Role;
  status?: Status;
}

const filtersOf = (s: UsersSearch): UserFilters => ({
  search: s.q || undefined,
  role: s.role,
  active: s.status === undefined ? undefined : s.status === 'active',
});

export const Route = createFileRoute('/_auth/users')({
  validateSearch: (search: Record<string, unknown>): UsersSearch => ({
    q: typeof search.q === 'string' && search.q.trim() ? search.q.trim().slice(0, 200) : undefined,
    role: search.role === 'admin' || search.role === 'user' ? search.role : undefined,
    status: search.status === 'active' || search.status === 'blocked' ? search.status : undefined,
  }),
  loaderDeps: ({ search }) => search,
  loader: ({ context, deps }) => context.queryClient.ensureInfiniteQueryData(usersQuery(filtersOf(deps))),
  component: UsersPage,
});

function UsersPage() {
  const search = Route.useSearch();
  const { data: me } = useSuspenseQuery(meQuery());
  const users = useSuspenseInfiniteQuery(usersQuery(filtersOf(search)));
  const rows = users.data.pages.flatMap((p) => p.results);
  const [flash, setFlash] = useState<{ message: string; tone: 'ok' | 'error' } | null>(null);

  return (
    <section aria-labelledby="users-title">
      <div className="page-head">
        <h1 id="users-title">Users</h1>
        <CreateUser onDone={setFlash} />
      </div>
      <Filters search={search} />
      <Flash message={flash?.message ?? null} tone={flash?.tone} />
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Users, newest first</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Sessions
              </th>
              <th scope="col" className="num">
                Files
              </th>
              <th scope="col" className="num">
                Storage
              </th>
              <th scope="col">Joined</th>
              <th scope="col">Last login</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((u) => (
              <UserRow key={u.id} user={u} isSelf={u.id === me.id} onDone={setFlash} />
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && <p className="empty-state">No users match these filters.</p>}
      {users.hasNextPage && (
        <button
          type="button"
          className="more"
          disabled={users.isFetchingNextPage}
          onClick={() => users.fetchNextPage()}
        >
          {users.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function Filters({ search }: { search: UsersSearch }) {
  const navigate = useNavigate({ from: Route.fullPath });
  const [q, setQ] = useState(search.q ?? '');
  const ids = { q: useId(), role: useId(), status: useId() };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void navigate({ search: (prev) => ({ ...prev, q: q.trim() || undefined }) });
  };
  return (
    <form className="filters" aria-label="Filter users" onSubmit={submit}>
      <div>
        <label htmlFor={ids.q}>Search</label>
        <input id={ids.q} type="search" placeholder="Email or phone" value={q} onChange={(e) => setQ(e.target.value)} />
      </div>
      <div>
        <label htmlFor={ids.role}>Role</label>
        <select
          id={ids.role}
          value={search.role ?? ''}
          onChange={(e) =>
            navigate({ search: (prev) => ({ ...prev, role: (e.target.value || undefined) as Role | undefined }) })
          }
        >
          <option value="">Any</option>
          <option value="user">User</option>
          <option value="admin">Admin</option>
        </select>
      </div>
      <div>
        <label htmlFor={ids.status}>Status</label>
        <select
          id={ids.status}
          value={search.status ?? ''}
          onChange={(e) =>
            navigate({ search: (prev) => ({ ...prev, status: (e.target.value || undefined) as Status | undefined }) })
          }
        >
          <option value="">Any</option>
          <option value="active">Active</option>
          <option value="blocked">Blocked</option>
        </select>
      </div>
      <button type="submit">Search</button>
      {(search.q || search.role || search.status) && (
        <Link to="/users" search={{}} className="button-link" onClick={() => setQ('')}>
          Clear
        </Link>
      )}
    </form>
  );
}

type Done = (flash: { message: string; tone: 'ok' | 'error' }) => void;

function useInvalidateUsers() {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.admin.users.pathFilter()),
      queryClient.invalidateQueries(trpc.admin.audit.pathFilter()),
    ]);
}

function UserRow({ user, isSelf, onDone }: { user: AdminUserDto; isSelf: boolean; onDone: Done }) {
  const invalidate = useInvalidateUsers();
  const name = identity(user);
  const options = (ok: string) => ({
    onSuccess: async () => {
      await invalidate();
      onDone({ message: ok, tone: 'ok' as const });
    },
    onError: (err: unknown) => onDone({ message: `${name}: ${errorMessage(err)}`, tone: 'error' as const }),
  });
  const setActive = useMutation(
    trpc.admin.users.setActive.mutationOptions(options(user.is_active ? `Blocked ${name}.` : `Unblocked ${name}.`)),
  );
  const setRole = useMutation(
    trpc.admin.users.setRole.mutationOptions(
      options(user.role === 'admin' ? `${name} is no longer an admin.` : `${name} is now an admin.`),
    ),
  );
  const revoke = useMutation(
    trpc.admin.users.revokeSessions.mutationOptions({
      onSuccess: async (r) => {
        await invalidate();
        onDone({ message: `Ended ${r.revoked} session${r.revoked === 1 ? '' : 's'} of ${name}.`, tone: 'ok' });
      },
      onError: (err) => onDone({ message: `${name}: ${errorMessage(err)}`, tone: 'error' }),
    }),
  );
  const busy = setActive.isPending || setRole.isPending || revoke.isPending;

  return (
    <tr className={user.is_active ? undefined : 'blocked'} aria-busy={busy}>
      <th scope="row">
        <span className="identity">{name}</span>
        {user.email && user.phone && <span className="muted small"> {user.phone}</span>}
        {isSelf && <span className="tag">you</span>}
      </th>
      <td>
        <span className={`badge ${user.role}`}>{user.role === 'admin' ? 'Admin' : 'User'}</span>
      </td>
      <td>
        <span className={`badge ${user.is_active ? 'active' : 'inactive'}`}>
          {user.is_active ? 'Active' : 'Blocked'}
        </span>
      </td>
      <td className="num">{user.sessions_open}</td>
      <td className="num">
        {user.file_count > 0 ? (
          <Link to="/files" search={{ owner: user.id }} aria-label={`${user.file_count} files of ${name}`}>
            {user.file_count}
          </Link>
        ) : (
          0
        )}
      </td>
      <td className="num nowrap">{formatBytes(user.bytes_used)}</td>
      <td className="nowrap">{formatDate(user.created_at)}</td>
      <td className="nowrap">{formatDate(user.last_login_at)}</td>
      <td className="actions">
        <button
          type="button"
          className={user.is_active ? 'danger' : undefined}
          disabled={busy || (isSelf && user.is_active)}
          title={isSelf && user.is_active ? 'You cannot block yourself' : undefined}
          aria-label={`${user.is_active ? 'Block' : 'Unblock'} ${name}`}
          onClick={() => setActive.mutate({ id: user.id, active: !user.is_active })}
        >
          {user.is_active ? 'Block' : 'Unblock'}
        </button>
        <button
          type="button"
          disabled={busy || (isSelf && user.role === 'admin')}
          title={isSelf ? 'You cannot remove your own admin role' : undefined}
          aria-label={`${user.role === 'admin' ? 'Remove admin role from' : 'Make admin:'} ${name}`}
          onClick={() => setRole.mutate({ id: user.id, role: user.role === 'admin' ? 'user' : 'admin' })}
        >
          {user.role === 'admin' ? 'Demote' : 'Promote'}
        </button>
        <button
          type="button"
          disabled={busy || user.sessions_open === 0}
          aria-label={`End all sessions of ${name}`}
          onClick={() => revoke.mutate({ id: user.id })}
        >
          End sessions
        </button>
        <Link to="/audit" search={{ actor: user.id }} aria-label={`Audit log of ${name}`}>
          Audit
        </Link>
      </td>
    </tr>
  );
}

function CreateUser({ onDone }: { onDone: Done }) {
  const invalidate = useInvalidateUsers();
  const [open, setOpen] = useState(false);
  const [identifier, setIdentifier] = useState('');
  const [role, setRole] = useState<Role>('user');
  const ids = { identifier: useId(), role: useId(), dialog: useId() };
  const create = useMutation(
    trpc.admin.users.create.mutationOptions({
      onSuccess: async (u) => {
        await invalidate();
        setIdentifier('');
        setRole('user');
        setOpen(false);
        onDone({ message: `Created ${identity(u)}${u.role === 'admin' ? ' (admin)' : ''}.`, tone: 'ok' });
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = identifier.trim();
    create.mutate(value.includes('@') ? { email: value, role } : { phone: value, role });
  };
  if (!open) {
    return (
      <button
        type="button"
        className="primary"
        aria-expanded={false}
        aria-controls={ids.dialog}
        onClick={() => setOpen(true)}
      >
        New user
      </button>
    );
  }
  return (
    <form id={ids.dialog} className="create-user" onSubmit={submit} aria-label="New user">
      <div>
        <label htmlFor={ids.identifier}>Email or phone</label>
        <input
          id={ids.identifier}
          required
          // biome-ignore lint/a11y/noAutofocus: the form was just opened on request
          autoFocus
          placeholder="person@example.com or +14155552671"
          value={identifier}
          onChange={(e) => setIdentifier(e.target.value)}
        />
      </div>
      <div>
        <label htmlFor={ids.role}>Role</label>
        <select id={ids.role} value={role} onChange={(e) => setRole(e.target.value as Role)}>
          <option value="user">User</option>
          <option value="admin">Admin</option>
        </select>
      </div>
      <button type="submit" className="primary" disabled={create.isPending || !identifier.trim()}>
        {create.isPending ? 'Creating…' : 'Create'}
      </button>
      <button
        type="button"
        onClick={() => {
          setOpen(false);
          create.reset();
        }}
      >
        Cancel
      </button>
      {create.error && (
        <p className="field-error" role="alert">
          {errorMessage(create.error)}
        </p>
      )}
    </form>
  );
}
