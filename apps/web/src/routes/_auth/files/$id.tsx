import type { FileDto } from '@tagdrop/contracts';
import { useMutation, useQuery, useQueryClient, useSuspenseQuery } from '@tanstack/react-query';
import { createFileRoute, Link, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { ClickStats } from '../../../components/click-chart';
import { Hashtags } from '../../../components/files';
import { LinkControls } from '../../../components/link-controls';
import { FilePreview } from '../../../components/preview';
import { QrCode } from '../../../components/qr-code';
import { formatBytes, formatDate, fromLocalInput, parseHashtags, toLocalInput } from '../../../lib/format';
import { sameOrigin, shareTokenOf } from '../../../lib/links';
import { errorMessage, trpc } from '../../../lib/trpc';

const fileQuery = (id: string) => trpc.files.get.queryOptions({ id });
// Grants live an hour or more and are handed out unchanged for half an hour: players never see their URL change.
const linksQuery = (id: string) => trpc.files.previewLinks.queryOptions({ id }, { staleTime: 15 * 60_000 });

export const Route = createFileRoute('/_auth/files/$id')({
  loader: ({ context, params }) =>
    Promise.all([
      context.queryClient.ensureQueryData(fileQuery(params.id)),
      context.queryClient.prefetchQuery(linksQuery(params.id)),
    ]),
  component: FileDetail,
});

function FileDetail() {
  const { id } = Route.useParams();
  const { data: file } = useSuspenseQuery(fileQuery(id));
  const links = useQuery(linksQuery(id)).data;
  const [savedVersion, setSavedVersion] = useState<string | null>(null);
  const setFile = useSetFile();
  return (
    <div className="detail">
      <p>
        <Link to="/files">← My files</Link>
      </p>
      <div className="page-head">
        <h1 className="break">{file.name}</h1>
        {/* The owner's browser sends no Bearer token with a link: the download carries a short-lived grant. */}
        <a className="button" href={links ? sameOrigin(links.download_url) : `/f/${file.id}`} download>
          Download
        </a>
      </div>
      <p className="meta">
        {formatBytes(file.size)} · {file.mime_type} · uploaded {formatDate(file.created_at)}
        <span className={file.is_public ? 'badge public' : 'badge private'}>
          {file.is_public ? 'Public' : 'Private'}
        </span>
      </p>
      <Hashtags tags={file.hashtags} />
      {links ? (
        <FilePreview
          key={file.sha256 ?? file.updated_at}
          file={file}
          sources={{
            content: sameOrigin(links.content_url),
            view: links.view_url ? sameOrigin(links.view_url) : null,
          }}
        />
      ) : (
        <section className="panel preview" aria-label="Preview">
          <p className="muted">Loading preview…</p>
        </section>
      )}
      <div className="detail-grid">
        <div>
          <ClickStats stats={file.stats} />
          <SharePanel file={file} />
        </div>
        <div>
          {/* A new version of the file resets the form; "Saved" names the version this form saved. */}
          <EditForm
            key={file.updated_at}
            file={file}
            saved={savedVersion === file.updated_at}
            onSaved={setSavedVersion}
          />
          <LinkControls file={file} onChange={setFile} />
          <DangerZone file={file} />
        </div>
      </div>
    </div>
  );
}

function useSetFile() {
  const queryClient = useQueryClient();
  return (file: FileDto) => {
    queryClient.setQueryData(fileQuery(file.id).queryKey, file);
    void queryClient.invalidateQueries({ queryKey: trpc.files.list.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.public.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.hashtags.pathKey() });
  };
}

function EditForm({ file, saved, onSaved }: { file: FileDto; saved: boolean; onSaved: (version: string) => void }) {
  const ids = { name: useId(), desc: useId(), tags: useId(), pub: useId(), exp: useId() };
  const [name, setName] = useState(file.name);
  const [description, setDescription] = useState(file.description);
  const [hashtags, setHashtags] = useState(file.hashtags.join(', '));
  const [isPublic, setIsPublic] = useState(file.is_public);
  const [expires, setExpires] = useState(toLocalInput(file.expires_at));
  const setFile = useSetFile();
  const save = useMutation(
    trpc.files.update.mutationOptions({
      onSuccess: (updated) => {
        onSaved(updated.updated_at);
        setFile(updated);
      },
    }),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({
      id: file.id,
      name: name.trim(),
      description,
      hashtags: parseHashtags(hashtags),
      is_public: isPublic,
      expires_at: fromLocalInput(expires),
    });
  };

  return (
    <section className="panel" aria-labelledby="edit-title">
      <h2 id="edit-title">Details</h2>
      <form className="stack" onSubmit={submit}>
        <label htmlFor={ids.name}>Name</label>
        <input id={ids.name} required maxLength={255} value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor={ids.desc}>Description</label>
        <textarea id={ids.desc} rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
        <label htmlFor={ids.tags}>Hashtags</label>
        <input
          id={ids.tags}
          placeholder="#photos, holiday"
          value={hashtags}
          onChange={(e) => setHashtags(e.target.value)}
        />
        <label htmlFor={ids.exp}>Expires</label>
        <div className="row gap">
          <input id={ids.exp} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          {expires ? (
            <button type="button" className="link small" onClick={() => setExpires('')}>
              Never
            </button>
          ) : null}
        </div>
        <label className="checkbox" htmlFor={ids.pub}>
          <input id={ids.pub} type="checkbox" checked={isPublic} onChange={(e) => setIsPublic(e.target.checked)} />
          Public (listed in the gallery, no link needed)
        </label>
        <div className="row gap">
          <button type="submit" disabled={save.isPending}>
            {save.isPending ? 'Saving…' : 'Save'}
          </button>
          {saved && !save.isPending ? (
            <span className="success small" role="status">
              Saved
            </span>
          ) : null}
        </div>
        {save.isError ? (
          <p className="error" role="alert">
            {errorMessage(save.error)}
          </p>
        ) : null}
      </form>
    </section>
  );
}

function SharePanel({ file }: { file: FileDto }) {
  const [copied, setCopied] = useState(false);
  const setFile = useSetFile();
  const rotate = useMutation(trpc.files.rotateLink.mutationOptions({ onSuccess: setFile }));
  const token = file.share_url ? shareTokenOf(file.share_url) : undefined;
  const link = file.is_public
    ? new URL(`/f/${file.id}`, window.location.origin).href
    : token
      ? new URL(`/share/${token}`, window.location.origin).href
      : undefined;

  const copy = async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      // Clipboard blocked: select the text so it can be copied by hand.
      (document.getElementById('share-link') as HTMLInputElement | null)?.select();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };

  return (
    <section className="panel" aria-labelledby="share-title">
      <h2 id="share-title">Share</h2>
      {link ? (
        <>
          <p className="muted small">
            {file.is_public
              ? 'This file is public: anyone with this link can download it.'
              : 'Private: only people with this link can open it.'}
          </p>
          <div className="row gap">
            <input id="share-link" aria-label="Share link" readOnly value={link} onFocus={(e) => e.target.select()} />
            <button type="button" className="secondary" onClick={copy}>
              {copied ? 'Copied!' : 'Copy link'}
            </button>
          </div>
          <QrCode
            text={link}
            fileName={`${file.name.replace(/\.[^.]*$/, '') || 'file'}-qr.png`}
            label="QR code of this file's link"
          />
        </>
      ) : (
        <p className="muted">No link yet.</p>
      )}
      {!file.is_public ? (
        <div className="share-actions">
          <button
            type="button"
            className="secondary small"
            disabled={rotate.isPending}
            onClick={() => rotate.mutate({ id: file.id })}
          >
            {rotate.isPending ? 'Rotating…' : 'Rotate link'}
          </button>
          <p className="muted small">Rotating makes the old link stop working.</p>
          {rotate.isSuccess ? (
            <p className="success small" role="status">
              New link created.
            </p>
          ) : null}
          {rotate.isError ? (
            <p className="error" role="alert">
              {errorMessage(rotate.error)}
            </p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function DangerZone({ file }: { file: FileDto }) {
  const [confirming, setConfirming] = useState(false);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.files.delete.mutationOptions({
      onSuccess: async () => {
        queryClient.removeQueries({ queryKey: fileQuery(file.id).queryKey });
        await queryClient.invalidateQueries();
        await navigate({ to: '/files' });
      },
    }),
  );
  return (
    <section className="panel danger-zone" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete</h2>
      {confirming ? (
        <div role="alertdialog" aria-labelledby="confirm-text" className="stack">
          <p id="confirm-text">
            Delete <strong>{file.name}</strong> for good? Its links stop working at once.
          </p>
          <div className="row gap">
            <button
              type="button"
              className="danger"
              disabled={remove.isPending}
              onClick={() => remove.mutate({ id: file.id })}
            >
              {remove.isPending ? 'Deleting…' : 'Yes, delete'}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete file
        </button>
      )}
      {remove.isError ? (
        <p className="error" role="alert">
          {errorMessage(remove.error)}
        </p>
      ) : null}
    </section>
  );
}
