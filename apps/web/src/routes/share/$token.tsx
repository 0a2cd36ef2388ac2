import { useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute } from '@tanstack/react-router';
import { Hashtags } from '../../components/files';
import { formatBytes, formatDate } from '../../lib/format';
import { trpc } from '../../lib/trpc';

const shareQuery = (token: string) => trpc.public.byToken.queryOptions({ token });

/** Landing page of a private link: what the file is, and a button to download it. */
export const Route = createFileRoute('/share/$token')({
  loader: ({ context, params }) => context.queryClient.ensureQueryData(shareQuery(params.token)),
  component: SharePage,
});

function SharePage() {
  const { token } = Route.useParams();
  const { data: file } = useSuspenseQuery(shareQuery(token));
  return (
    <section className="panel narrow share" aria-labelledby="share-title">
      <p className="muted small">Someone shared a file with you</p>
      <h1 id="share-title" className="break">
        {file.name}
      </h1>
      <dl className="facts">
        <dt>Size</dt>
        <dd>{formatBytes(file.size)}</dd>
        <dt>Type</dt>
        <dd>{file.mime_type}</dd>
        <dt>Shared</dt>
        <dd>{formatDate(file.created_at)}</dd>
        {file.expires_at ? (
          <>
            <dt>Expires</dt>
            <dd>{formatDate(file.expires_at)}</dd>
          </>
        ) : null}
      </dl>
      {file.description ? <p className="description">{file.description}</p> : null}
      <Hashtags tags={file.hashtags} />
      <a className="button large" href={`/s/${encodeURIComponent(token)}`} download>
        Download
      </a>
    </section>
  );
}
