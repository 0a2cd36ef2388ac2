import { useInfiniteQuery, useSuspenseInfiniteQuery } from '@tanstack/react-query';
import { createFileRoute, Link } from '@tanstack/react-router';
import { FileCollection, ViewToggle } from '../../components/file-grid';
import { LoadMore } from '../../components/files';
import { auth } from '../../lib/auth';
import { myFilesQuery, publicFilesQuery } from '../../lib/queries';
import { useLoggedIn } from '../../lib/use-auth';

export const Route = createFileRoute('/tags/$tag')({
  loader: async ({ context, params }) => {
    const hashtag = params.tag;
    await Promise.all([
      context.queryClient.ensureInfiniteQueryData(publicFilesQuery({ hashtag })),
      auth.hasSession() ? context.queryClient.ensureInfiniteQueryData(myFilesQuery({ hashtag })) : null,
    ]);
  },
  component: TagPage,
});

function TagPage() {
  const { tag } = Route.useParams();
  const loggedIn = useLoggedIn();
  const pub = useSuspenseInfiniteQuery(publicFilesQuery({ hashtag: tag }));
  const publicFiles = pub.data.pages.flatMap((p) => p.results);
  return (
    <section aria-labelledby="tag-title">
      <div className="page-head">
        <h1 id="tag-title">
          <span className="muted">#</span>
          {tag}
        </h1>
        <div className="row gap">
          <Link to="/">All public files</Link>
          <ViewToggle />
        </div>
      </div>
      {loggedIn ? <MyTagged tag={tag} /> : null}
      <div className="row gap wrap">
        <h2>Public files tagged #{tag}</h2>
        {publicFiles.length > 0 ? (
          // A plain link: the browser streams the archive to disk as the server builds it.
          <a
            className="button secondary small"
            href={`/api/public/files/zip/?hashtag=${encodeURIComponent(tag)}`}
            download
            data-testid="tag-zip"
          >
            Download all as ZIP
          </a>
        ) : null}
      </div>
      <FileCollection files={publicFiles} mine={false} empty={`No public files are tagged #${tag}.`} />
      <LoadMore hasNext={pub.hasNextPage} loading={pub.isFetchingNextPage} onClick={() => pub.fetchNextPage()} />
    </section>
  );
}

function MyTagged({ tag }: { tag: string }) {
  // Loaded by the route's loader when logged in; a plain query here so logging in on the page also works.
  const mine = useInfiniteQuery(myFilesQuery({ hashtag: tag }));
  const files = mine.data?.pages.flatMap((p) => p.results) ?? [];
  return (
    <>
      <h2>Your files tagged #{tag}</h2>
      {mine.isPending ? (
        <p className="muted">Loading…</p>
      ) : (
        <FileCollection files={files} mine empty={`None of your files are tagged #${tag}.`} />
      )}
      <LoadMore hasNext={mine.hasNextPage} loading={mine.isFetchingNextPage} onClick={() => mine.fetchNextPage()} />
    </>
  );
}
