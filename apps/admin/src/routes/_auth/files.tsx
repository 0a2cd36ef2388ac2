import type { AdminFileDto } from '@tagdrop/contracts';
import { useMutation, useQueryClient, useSuspenseInfiniteQuery } from '@tanstack/react-query';
import { createFileRoute, Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { ConfirmButton } from '../../components/confirm-button';
import { Flash } from '../../components/status';
import { formatBytes, formatDate, identity } from '../../lib/format';
import { type FileFilters, filesQuery } from '../../lib/queries';
import { errorMessage, trpc } from '../../lib/trpc';

interface FilesSearch {
  q?: string;
  tag?: string;
  owner?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const filtersOf = (s: FilesSearch): FileFilters => ({ search: s.q, hashtag: s.tag, owner_id: s.owner });
const text = (v: unknown, max: number) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined);

export const Route = createFileRoute('/_auth/files')({
  validateSearch: (search: Record<string, unknown>): FilesSearch => ({
    q: text(search.q, 200),
    tag: text(search.tag, 100)?.replace(/^#+/, ''),
    owner: typeof search.owner === 'string' && UUID.test(search.owner) ? search.owner : undefined,
  }),
  loaderDeps: ({ search }) => search,
  loader: ({ context, deps }) => context.queryClient.ensureInfiniteQueryData(filesQuery(filtersOf(deps))),
  component: FilesPage,
});

function FilesPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const files = useSuspenseInfiniteQuery(filesQuery(filtersOf(search)));
  const rows = files.data.pages.flatMap((p) => p.results);
  const [flash, setFlash] = useState<{ message: string; tone: 'ok' | 'error' } | null>(null);
  const [q, setQ] = useState(search.q ?? '');
  const ids = { q: useId() };
  const ownerName = search.owner ? rows.find((f) => f.owner.id === search.owner)?.owner : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void navigate({ search: (prev) => ({ ...prev, q: q.trim() || undefined }) });
  };

  return (
    <section aria-labelledby="files-title">
      <div className="page-head">
        <h1 id="files-title">Files</h1>
      </div>
      <form className="filters" aria-label="Filter files" onSubmit={submit}>
        <div>
          <label htmlFor={ids.q}>Search</label>
          <input
            id={ids.q}
            type="search"
            placeholder="Name or description"
            value={q}
            onChange={(e) => setQ(e.target.value)}
          />
        </div>
        <button type="submit">Search</button>
        {search.tag && (
          <p className="chip">
            Tagged <code>#{search.tag}</code>
            <Link
              to="/files"
              search={(prev) => ({ ...prev, tag: undefined })}
              className="chip-clear"
              aria-label="Show every hashtag"
            >
              ×
            </Link>
          </p>
        )}
        {search.owner && (
          <p className="chip">
            Owned by <code>{ownerName ? identity(ownerName) : search.owner}</code>
            <Link
              to="/files"
              search={(prev) => ({ ...prev, owner: undefined })}
              className="chip-clear"
              aria-label="Show every owner"
            >
              ×
            </Link>
          </p>
        )}
      </form>
      <Flash message={flash?.message ?? null} tone={flash?.tone} />
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">All files, newest first</caption>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Owner</th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Visibility</th>
              <th scope="col">Hashtags</th>
              <th scope="col" className="num">
                Clicks
              </th>
              <th scope="col">Uploaded</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((f) => (
              <FileRow key={f.id} file={f} onDone={setFlash} />
            ))}
          </tbody>
        </table>
      </div>
      {rows.length === 0 && <p className="empty-state">No files match.</p>}
      {files.hasNextPage && (
        <button
          type="button"
          className="more"
          disabled={files.isFetchingNextPage}
          onClick={() => files.fetchNextPage()}
        >
          {files.isFetchingNextPage ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function FileRow({
  file,
  onDone,
}: {
  file: AdminFileDto;
  onDone: (flash: { message: string; tone: 'ok' | 'error' }) => void;
}) {
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.admin.files.delete.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.admin.files.pathFilter()),
          queryClient.invalidateQueries(trpc.admin.users.pathFilter()),
          queryClient.invalidateQueries(trpc.admin.hashtags.pathFilter()),
          queryClient.invalidateQueries(trpc.admin.audit.pathFilter()),
        ]);
        onDone({ message: `Deleted ${file.name}.`, tone: 'ok' });
      },
      onError: (err) => onDone({ message: `${file.name}: ${errorMessage(err)}`, tone: 'error' }),
    }),
  );
  const expired = file.expires_at !== null && new Date(file.expires_at) <= new Date();
  return (
    <tr aria-busy={remove.isPending}>
      <th scope="row">
        <span className="file-name">{file.name}</span>
        <div className="muted small">
          {file.mime_type}
          {file.description && ` · ${file.description.slice(0, 80)}${file.description.length > 80 ? '…' : ''}`}
        </div>
      </th>
      <td>
        <Link to="/files" search={(prev) => ({ ...prev, owner: file.owner.id })}>
          {identity(file.owner)}
        </Link>
      </td>
      <td className="num nowrap">{formatBytes(file.size)}</td>
      <td>
        <span className={`badge ${file.is_public ? 'active' : ''}`}>{file.is_public ? 'Public' : 'Private'}</span>
      </td>
      <td>
        {file.hashtags.length > 0 ? (
          <ul className="hashtag-list">
            {file.hashtags.map((t) => (
              <li key={t}>
                <Link to="/files" search={(prev) => ({ ...prev, tag: t })}>
                  #{t}
                </Link>
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="num">{file.stats.clicks}</td>
      <td className="nowrap">{formatDate(file.created_at)}</td>
      <td className="nowrap">
        {expired ? <span className="badge inactive">Expired</span> : formatDate(file.expires_at)}
      </td>
      <td className="actions">
        <ConfirmButton
          label="Delete"
          confirmLabel="Yes, delete"
          question={`Delete ${file.name}?`}
          accessibleName={`Delete ${file.name}`}
          disabled={remove.isPending}
          onConfirm={() => remove.mutate({ id: file.id })}
        />
      </td>
    </tr>
  );
}
