import { useSuspenseInfiniteQuery } from '@tanstack/react-query';
import { createFileRoute, Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { formatDate } from '../../lib/format';
import { type AuditFilters, auditQuery } from '../../lib/queries';

interface AuditSearch {
  action?: string;
  actor?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const filtersOf = (s: AuditSearch): AuditFilters => ({ action: s.action, actor_id: s.actor });

/** Common actions to filter by; a prefix ending in "." matches a whole family. */
const actions = [
  ['', 'All actions'],
  ['user.', 'User changes (all)'],
  ['user.created', 'User created'],
  ['user.blocked', 'User blocked'],
  ['user.unblocked', 'User unblocked'],
  ['user.role_changed', 'Role changed'],
  ['user.sessions_revoked', 'Sessions ended by an admin'],
  ['user.signup', 'Sign-up'],
  ['auth.', 'Logins and sessions (all)'],
  ['auth.login', 'Login'],
  ['auth.refresh_reuse', 'Refresh token reused'],
  ['file.', 'File changes (all)'],
  ['hashtag.', 'Hashtag changes (all)'],
] as const;

export const Route = createFileRoute('/_auth/audit')({
  validateSearch: (search: Record<string, unknown>): AuditSearch => ({
    action: typeof search.action === 'string' && search.action ? search.action.slice(0, 100) : undefined,
    actor: typeof search.actor === 'string' && UUID.test(search.actor) ? search.actor : undefined,
  }),
  loaderDeps: ({ search }) => search,
  loader: ({ context, deps }) => context.queryClient.ensureInfiniteQueryData(auditQuery(filtersOf(deps))),
  component: AuditPage,
});

function AuditPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const audit = useSuspenseInfiniteQuery(auditQuery(filtersOf(search)));
  const rows = audit.data.pages.flatMap((p) => p.results);
  const [action, setAction] = useState(search.action ?? '');
  const ids = { action: useId() };
  const known = actions.some(([value]) => value === action);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void navigate({ search: (prev) => ({ ...prev, action: action.trim() || undefined }) });
  };

  return (
    <section aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit log</h1>
      </div>
      <form className="filters" aria-label="Filter the audit log" onSubmit={submit}>
        <div>
          <label htmlFor={ids.action}>Action</label>
          <select
            id={ids.action}
            value={known ? action : '__custom'}
            onChange={(e) => {
              setAction(e.target.value);
              void navigate({ search: (prev) => ({ ...prev, action: e.target.value || undefined }) });
            }}
          >
            {actions.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
            {!known && <option value="__custom">{action}</option>}
          </select>
        </div>
        {search.actor && (
          <p className="chip">
            Only actions by <code>{rows.find((r) => r.actor_id === search.actor)?.actor_email ?? search.actor}</code>{' '}
            <Link
              to="/audit"
              search={(prev) => ({ ...prev, actor: undefined })}
              aria-label="Show every actor"
              className="chip-clear"
            >
              ×
            </Link>
          </p>
        )}
      </form>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Audit entries, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Details</th>
              <th scope="col">IP</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => (
              <tr key={e.id}>
                <td>
                  <time dateTime={e.created_at}>{formatDate(e.created_at)}</time>
                </td>
                <td>
                  {e.actor_id ? (
                    <Link to="/audit" search={(prev) => ({ ...prev, actor: e.actor_id ?? undefined })}>
                      {e.actor_email ?? e.actor_phone ?? e.actor_id}
                    </Link>
                  ) : (
                    <span className="muted">system</span>
                  )}
                </td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td className="small">
                  {e.target_label ? (
                    <span title={`${e.target_type} ${e.target_id}`}>{e.target_label}</span>
                  ) : e.target_type ? (
                    `${e.target_type} ${e.target_id ?? ''}`
                  ) : (
                    '—'
                  )}
                </td>
                <td className="small">
                  {Object.keys(e.meta).length > 0 ? (
                    <code>{JSON.stringify(e.meta)}</code>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td className="small">{e.ip ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && <p className="empty-state">No audit entries match.</p>}
      {audit.hasNextPage && (
        <button
          type="button"
          className="more"
          disabled={audit.isFetchingNextPage}
          onClick={() => audit.fetchNextPage()}
        >
          {audit.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
