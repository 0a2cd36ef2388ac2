import { useSuspenseInfiniteQuery } from '@tanstack/react-query';
import { createFileRoute, useNavigate } from '@tanstack/react-router';
import { FileCollection, ViewToggle } from '../components/file-grid';
import { LoadMore } from '../components/files';
import { SearchBox } from '../components/search-box';
import { publicFilesQuery } from '../lib/queries';

export const Route = createFileRoute('/')({
  validateSearch: (s: Record<string, unknown>): { q?: string } => (typeof s.q === 'string' && s.q ? { q: s.q } : {}),
  loaderDeps: ({ search }) => ({ q: search.q }),
  loader: ({ context, deps }) => context.queryClient.ensureInfiniteQueryData(publicFilesQuery({ search: deps.q })),
  component: Gallery,
});

function Gallery() {
  const { q } = Route.useSearch();
  const navigate = useNavigate({ from: '/' });
  const query = useSuspenseInfiniteQuery(publicFilesQuery({ search: q }));
  const files = query.data.pages.flatMap((p) => p.results);
  return (
    <section aria-labelledby="gallery-title">
      <div className="page-head">
        <h1 id="gallery-title">Public files</h1>
        <div className="row gap">
          <SearchBox value={q ?? ''} onSearch={(text) => navigate({ search: text ? { q: text } : {} })} />
          <ViewToggle />
        </div>
      </div>
      <FileCollection
        files={files}
        mine={false}
        empty={q ? `No public files match “${q}”.` : 'Nobody has shared a public file yet.'}
      />
      <LoadMore hasNext={query.hasNextPage} loading={query.isFetchingNextPage} onClick={() => query.fetchNextPage()} />
    </section>
  );
}
