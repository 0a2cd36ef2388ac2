import { useSuspenseInfiniteQuery, useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute, useNavigate } from '@tanstack/react-router';
import { useMemo } from 'react';
import { BulkToolbar } from '../../../components/bulk-toolbar';
import { FileListView, LoadMore } from '../../../components/files';
import { SearchBox } from '../../../components/search-box';
import { UploadPanel } from '../../../components/upload-panel';
import { myFilesQuery } from '../../../lib/queries';
import { useSelection } from '../../../lib/selection';
import { trpc } from '../../../lib/trpc';

interface FilesSearch {
  q?: string;
  hashtag?: string;
}

const hashtagsQuery = () => trpc.hashtags.list.queryOptions();

export const Route = createFileRoute('/_auth/files/')({
  validateSearch: (s: Record<string, unknown>): FilesSearch => ({
    ...(typeof s.q === 'string' && s.q ? { q: s.q } : {}),
    ...(typeof s.hashtag === 'string' && s.hashtag ? { hashtag: s.hashtag } : {}),
  }),
  loaderDeps: ({ search }) => ({ q: search.q, hashtag: search.hashtag }),
  loader: ({ context, deps }) =>
    Promise.all([
      context.queryClient.ensureInfiniteQueryData(myFilesQuery({ search: deps.q, hashtag: deps.hashtag })),
      context.queryClient.ensureQueryData(hashtagsQuery()),
    ]),
  component: MyFiles,
});

function MyFiles() {
  const search = Route.useSearch();
  const navigate = useNavigate({ from: '/files/' });
  const query = useSuspenseInfiniteQuery(myFilesQuery({ search: search.q, hashtag: search.hashtag }));
  const { data: tags } = useSuspenseQuery(hashtagsQuery());
  const files = query.data.pages.flatMap((p) => p.results);
  const listedIds = useMemo(() => files.map((f) => f.id), [files]);
  const selection = useSelection(listedIds);
  const setSearch = (next: FilesSearch) => navigate({ search: next });

  return (
    <div className="files-page">
      <div className="page-head">
        <h1>My files</h1>
        <SearchBox
          value={search.q ?? ''}
          label="Search my files"
          onSearch={(q) => setSearch({ ...search, q: q || undefined })}
        />
      </div>
      <UploadPanel />
      {tags.results.length > 0 ? (
        <nav className="filter" aria-label="Filter by hashtag">
          <span className="muted small">Filter:</span>
          <ul className="chips">
            <li>
              <button
                type="button"
                className={search.hashtag ? 'chip' : 'chip active'}
                aria-pressed={!search.hashtag}
                onClick={() => setSearch({ ...search, hashtag: undefined })}
              >
                All
              </button>
            </li>
            {tags.results.map((t) => (
              <li key={t.name}>
                <button
                  type="button"
                  className={search.hashtag === t.name ? 'chip active' : 'chip'}
                  aria-pressed={search.hashtag === t.name}
                  onClick={() => setSearch({ ...search, hashtag: search.hashtag === t.name ? undefined : t.name })}
                >
                  #{t.name} <span className="count">{t.count}</span>
                </button>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
      <BulkToolbar selection={selection} listed={files.length} />
      <FileListView
        files={files}
        mine
        selection={selection}
        empty={search.q || search.hashtag ? 'No files match this filter.' : 'You have not uploaded anything yet.'}
      />
      <LoadMore hasNext={query.hasNextPage} loading={query.isFetchingNextPage} onClick={() => query.fetchNextPage()} />
    </div>
  );
}
