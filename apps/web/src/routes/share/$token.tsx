import type { FileDto, UnlockedLink } from '@tagdrop/contracts';
import { fileKind } from '@tagdrop/contracts/file-kinds';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createFileRoute } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { Hashtags } from '../../components/files';
import { LinkFacts } from '../../components/link-controls';
import { FileFacts, FilePreview } from '../../components/preview';
import { Pending } from '../../components/status';
import { formatBytes, formatDate, formatRelative } from '../../lib/format';
import { sameOrigin } from '../../lib/links';
import { errorCode, errorMessage, trpc } from '../../lib/trpc';

const shareQuery = (token: string, unlock?: string) =>
  trpc.public.byToken.queryOptions({ token, ...(unlock ? { unlock } : {}) });

/** An unlocked link stays unlocked in this tab until its grant expires (a reload does not ask again). */
const grantKey = (token: string) => `tagdrop-unlock:${token}`;
function storedGrant(token: string): UnlockedLink | null {
  try {
    const grant = JSON.parse(sessionStorage.getItem(grantKey(token)) ?? 'null') as UnlockedLink | null;
    return grant && Date.parse(grant.expires_at) > Date.now() ? grant : null;
  } catch {
    return null;
  }
}

/** Landing page of a private link: what the file is, its password when it has one, and the download. */
export const Route = createFileRoute('/share/$token')({
  // Never throws: a link that asks for its password is answered by the page itself.
  loader: ({ context, params }) =>
    context.queryClient.prefetchQuery(shareQuery(params.token, storedGrant(params.token)?.unlock)),
  component: SharePage,
});

function SharePage() {
  const { token } = Route.useParams();
  const [grant, setGrant] = useState(() => storedGrant(token));
  const query = useQuery(shareQuery(token, grant?.unlock));
  const code = errorCode(query.error);
  if (query.data) {
    return <SharedFile file={query.data} token={token} grant={grant} ended={code === 'gone'} />;
  }
  if (query.isPending) return <Pending />;
  if (code === 'password_required') {
    return (
      <PasswordForm
        token={token}
        onUnlocked={(unlocked) => {
          sessionStorage.setItem(grantKey(token), JSON.stringify(unlocked));
          setGrant(unlocked);
        }}
      />
    );
  }
  // 404 and 410 (expired, out of downloads): the router's error page says which.
  throw query.error;
}

function unlockError(err: unknown): string {
  const code = errorCode(err);
  if (code === 'invalid_password') return 'That is not the password of this link. Check it and try again.';
  if (code === 'rate_limited') {
    const seconds = (err as { data?: { retryAfter?: number } }).data?.retryAfter;
    const when = seconds ? formatRelative(new Date(Date.now() + seconds * 1000).toISOString()) : 'later';
    return `Too many wrong passwords for this link. Try again ${when}.`;
  }
  return errorMessage(err);
}

function PasswordForm({ token, onUnlocked }: { token: string; onUnlocked: (grant: UnlockedLink) => void }) {
  const ids = { pw: useId(), err: useId() };
  const [password, setPassword] = useState('');
  const unlock = useMutation(
    trpc.public.unlock.mutationOptions({
      onSuccess: onUnlocked,
      onError: () => setPassword(''),
    }),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    unlock.mutate({ token, password });
  };
  return (
    <section className="panel narrow share" aria-labelledby="locked-title">
      <p className="muted small">Someone shared a file with you</p>
      <h1 id="locked-title">This link is protected</h1>
      <p>Enter the password you were given with the link to see the file and download it.</p>
      <form className="stack" onSubmit={submit}>
        <label htmlFor={ids.pw}>Password</label>
        <input
          id={ids.pw}
          type="password"
          autoComplete="off"
          required
          maxLength={200}
          value={password}
          aria-invalid={unlock.isError || undefined}
          aria-describedby={unlock.isError ? ids.err : undefined}
          onChange={(e) => setPassword(e.target.value)}
        />
        {unlock.isError ? (
          <p id={ids.err} className="error" role="alert">
            {unlockError(unlock.error)}
          </p>
        ) : null}
        <button type="submit" disabled={unlock.isPending || !password}>
          {unlock.isPending ? 'Checking…' : 'Unlock'}
        </button>
      </form>
    </section>
  );
}

const LIMITED_NOTE = 'No preview: this link allows a limited number of downloads, and opening the file would use one.';

function SharedFile({
  file,
  token,
  grant,
  ended,
}: {
  file: FileDto;
  token: string;
  grant: UnlockedLink | null;
  /** The link stopped working while the page was open (its last download, or its expiry). */
  ended: boolean;
}) {
  const queryClient = useQueryClient();
  const link = `/s/${encodeURIComponent(token)}`;
  const unlock = grant && file.has_link_password ? `?unlock=${encodeURIComponent(grant.unlock)}` : '';
  const download = grant && file.has_link_password ? sameOrigin(grant.download_url) : link;
  const limited = file.max_downloads !== null;
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
        <LinkFacts file={file} />
      </dl>
      {file.description ? <p className="description">{file.description}</p> : null}
      <Hashtags tags={file.hashtags} />
      {ended || file.downloads_left === 0 ? (
        <p className="notice" role="alert">
          This link has stopped working: it has no downloads left or has expired.
        </p>
      ) : (
        <a
          className="button large"
          href={download}
          download
          onClick={() => {
            // A limited link: show what is left once the server has counted this download.
            if (limited)
              setTimeout(() => void queryClient.invalidateQueries({ queryKey: trpc.public.pathKey() }), 1500);
          }}
        >
          Download
        </a>
      )}
      {limited ? (
        // Every GET of a limited file's bytes takes one of its downloads (it is sent whole): the page never loads
        // them. Images show their thumbnail (/s/{token}/thumb, never counted), everything else its icon, size, type.
        <section className="panel preview" aria-label="Preview" data-kind="limited">
          {fileKind(file.mime_type) === 'image' ? (
            <>
              <img
                className="preview-image"
                src={file.thumbnail_url ? sameOrigin(file.thumbnail_url) : `${link}/thumb${unlock}`}
                alt={file.name}
              />
              <p className="muted small">{LIMITED_NOTE}</p>
            </>
          ) : (
            <FileFacts file={file} note={LIMITED_NOTE} />
          )}
        </section>
      ) : (
        <FilePreview file={file} sources={{ content: `${link}${unlock}`, view: `${link}/view${unlock}` }} />
      )}
    </section>
  );
}
