import type { AdminHashtagDto } from '@tagdrop/contracts';
import { useMutation, useQueryClient, useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute, Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { ConfirmButton } from '../../components/confirm-button';
import { Flash } from '../../components/status';
import { formatDate } from '../../lib/format';
import { hashtagsQuery } from '../../lib/queries';
import { errorMessage, trpc } from '../../lib/trpc';

interface HashtagsSearch {
  q?: string;
}

export const Route = createFileRoute('/_auth/hashtags')({
  validateSearch: (search: Record<string, unknown>): HashtagsSearch => ({
    q: typeof search.q === 'string' && search.q.trim() ? search.q.trim().slice(0, 100) : undefined,
  }),
  loaderDeps: ({ search }) => search,
  loader: ({ context, deps }) => context.queryClient.ensureQueryData(hashtagsQuery(deps.q)),
  component: HashtagsPage,
});

function HashtagsPage() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: Route.fullPath });
  const { data } = useSuspenseQuery(hashtagsQuery(search.q));
  const [flash, setFlash] = useState<{ message: string; tone: 'ok' | 'error' } | null>(null);
  const [q, setQ] = useState(search.q ?? '');
  const ids = { q: useId() };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void navigate({ search: { q: q.trim() || undefined } });
  };

  return (
    <section aria-labelledby="hashtags-title">
      <div className="page-head">
        <h1 id="hashtags-title">Hashtags</h1>
        <span className="muted small">
          {data.results.length} hashtag{data.results.length === 1 ? '' : 's'}
        </span>
      </div>
      <form className="filters" aria-label="Filter hashtags" onSubmit={submit}>
        <div>
          <label htmlFor={ids.q}>Search</label>
          <input id={ids.q} type="search" placeholder="Hashtag" value={q} onChange={(e) => setQ(e.target.value)} />
        </div>
        <button type="submit">Search</button>
      </form>
      <Flash message={flash?.message ?? null} tone={flash?.tone} />
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Hashtags, most used first</caption>
          <thead>
            <tr>
              <th scope="col">Hashtag</th>
              <th scope="col" className="num">
                Files
              </th>
              <th scope="col">First used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.results.map((t) => (
              <HashtagRow key={t.name} tag={t} onDone={setFlash} />
            ))}
          </tbody>
        </table>
      </div>
      {data.results.length === 0 && <p className="empty-state">No hashtags.</p>}
      <p className="muted small">
        Deleting a hashtag removes it from every file. A #word still written in a description returns if that
        description is edited.
      </p>
    </section>
  );
}

function HashtagRow({
  tag,
  onDone,
}: {
  tag: AdminHashtagDto;
  onDone: (flash: { message: string; tone: 'ok' | 'error' }) => void;
}) {
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.admin.hashtags.delete.mutationOptions({
      onSuccess: async (r) => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.admin.hashtags.pathFilter()),
          queryClient.invalidateQueries(trpc.admin.files.pathFilter()),
          queryClient.invalidateQueries(trpc.admin.audit.pathFilter()),
        ]);
        onDone({ message: `Deleted #${r.name} from ${r.unlinked} file${r.unlinked === 1 ? '' : 's'}.`, tone: 'ok' });
      },
      onError: (err) => onDone({ message: `#${tag.name}: ${errorMessage(err)}`, tone: 'error' }),
    }),
  );
  return (
    <tr aria-busy={remove.isPending}>
      <th scope="row">
        <code>#{tag.name}</code>
      </th>
      <td className="num">
        {tag.file_count > 0 ? (
          <Link to="/files" search={{ tag: tag.name }} aria-label={`${tag.file_count} files tagged #${tag.name}`}>
            {tag.file_count}
          </Link>
        ) : (
          0
        )}
      </td>
      <td className="nowrap">{formatDate(tag.created_at)}</td>
      <td className="actions">
        <ConfirmButton
          label="Delete"
          confirmLabel="Yes, delete"
          question={`Remove #${tag.name} from ${tag.file_count} file${tag.file_count === 1 ? '' : 's'}?`}
          accessibleName={`Delete #${tag.name}`}
          disabled={remove.isPending}
          onConfirm={() => remove.mutate({ name: tag.name })}
        />
      </td>
    </tr>
  );
}
