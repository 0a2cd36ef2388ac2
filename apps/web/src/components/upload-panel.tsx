import { Link } from '@tanstack/react-router';
import { type DragEvent, type FormEvent, useId, useRef, useState } from 'react';
import { formatBytes, fromLocalInput, parseHashtags } from '../lib/format';
import { type UploadItem, uploadStore, useUploads } from '../lib/uploads';
import { parseMaxDownloads } from './link-controls';

export function UploadPanel() {
  const ids = { files: useId(), desc: useId(), tags: useId(), pub: useId(), exp: useId(), max: useId(), pw: useId() };
  const [files, setFiles] = useState<File[]>([]);
  const [description, setDescription] = useState('');
  const [hashtags, setHashtags] = useState('');
  const [isPublic, setIsPublic] = useState(false);
  const [expires, setExpires] = useState('');
  const [maxDownloads, setMaxDownloads] = useState('');
  const [linkPassword, setLinkPassword] = useState('');
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const items = useUploads();
  const maxInvalid = Number.isNaN(parseMaxDownloads(maxDownloads));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const max = parseMaxDownloads(maxDownloads);
    if (Number.isNaN(max)) return;
    for (const file of files) {
      uploadStore.add(file, {
        description: description.trim() || undefined,
        hashtags: parseHashtags(hashtags),
        isPublic,
        expiresAt: fromLocalInput(expires),
        maxDownloads: max,
        ...(!isPublic && linkPassword ? { linkPassword } : {}),
      });
    }
    setFiles([]);
    setLinkPassword('');
    if (input.current) input.current.value = '';
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const dropped = [...e.dataTransfer.files];
    if (dropped.length) setFiles((f) => [...f, ...dropped]);
  };

  return (
    <section className="panel upload" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      <form onSubmit={submit} className="upload-form">
        <label
          htmlFor={ids.files}
          className={dragging ? 'dropzone dragging' : 'dropzone'}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <span>
            <strong>Choose files</strong> or drop them here
          </span>
          <span className="muted small">
            {files.length
              ? `${files.length} selected: ${files.map((f) => f.name).join(', ')}`
              : 'Several at once is fine'}
          </span>
          <input
            ref={input}
            id={ids.files}
            className="visually-hidden"
            type="file"
            multiple
            onChange={(e) => setFiles([...(e.target.files ?? [])])}
          />
        </label>
        <div className="grid2">
          <div className="field">
            <label htmlFor={ids.tags}>Hashtags</label>
            <input
              id={ids.tags}
              placeholder="#photos, holiday"
              value={hashtags}
              onChange={(e) => setHashtags(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.exp}>Expires (optional)</label>
            <input id={ids.exp} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </div>
        </div>
        <div className="grid2">
          <div className="field">
            <label htmlFor={ids.max}>Downloads allowed (optional)</label>
            <input
              id={ids.max}
              type="number"
              min={1}
              step={1}
              inputMode="numeric"
              placeholder="No limit"
              aria-invalid={maxInvalid || undefined}
              value={maxDownloads}
              onChange={(e) => setMaxDownloads(e.target.value)}
            />
            {maxInvalid ? (
              <p className="error small" role="alert">
                A whole number of at least 1, or empty for no limit.
              </p>
            ) : null}
          </div>
          <div className="field">
            <label htmlFor={ids.pw}>Link password (optional)</label>
            <input
              id={ids.pw}
              type="password"
              autoComplete="new-password"
              maxLength={200}
              disabled={isPublic}
              placeholder={isPublic ? 'Private files only' : 'None'}
              value={isPublic ? '' : linkPassword}
              onChange={(e) => setLinkPassword(e.target.value)}
            />
          </div>
        </div>
        <div className="field">
          <label htmlFor={ids.desc}>Description</label>
          <textarea id={ids.desc} rows={2} value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
        <div className="row between wrap">
          <label className="checkbox" htmlFor={ids.pub}>
            <input id={ids.pub} type="checkbox" checked={isPublic} onChange={(e) => setIsPublic(e.target.checked)} />
            Public (listed in the gallery)
          </label>
          <button type="submit" disabled={files.length === 0 || maxInvalid}>
            Upload {files.length > 1 ? `${files.length} files` : ''}
          </button>
        </div>
      </form>
      {items.length > 0 ? (
        <>
          <ul className="uploads" aria-label="Uploads">
            {items.map((item) => (
              <UploadRow key={item.key} item={item} />
            ))}
          </ul>
          {items.some((i) => i.status === 'done' || i.status === 'cancelled') ? (
            <button type="button" className="link small" onClick={() => uploadStore.clearFinished()}>
              Clear finished
            </button>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

const statusText: Record<UploadItem['status'], string> = {
  uploading: 'Uploading',
  paused: 'Paused',
  done: 'Done',
  error: 'Failed',
  cancelled: 'Cancelled',
};

function UploadRow({ item }: { item: UploadItem }) {
  const pct = item.size ? Math.round((item.sent / item.size) * 100) : item.status === 'done' ? 100 : 0;
  return (
    <li className={`upload-row ${item.status}`} data-testid="upload-row">
      <div className="row between wrap">
        <span className="break">
          {item.status === 'done' && item.id ? (
            <Link to="/files/$id" params={{ id: item.id }}>
              {item.name}
            </Link>
          ) : (
            item.name
          )}
        </span>
        <span className="muted small" data-testid="upload-status">
          {statusText[item.status]} · {pct}% of {formatBytes(item.size)}
        </span>
      </div>
      <progress max={100} value={pct} aria-label={`Upload of ${item.name}`} />
      {item.resumedFrom !== undefined || item.parts ? (
        <p className="muted small" data-testid="upload-note">
          {item.resumedFrom !== undefined
            ? `Resumed at ${Math.floor((item.resumedFrom / (item.size || 1)) * 100)}% (${formatBytes(item.resumedFrom)} were already uploaded)`
            : null}
          {item.resumedFrom !== undefined && item.parts ? ' · ' : null}
          {item.parts ? `Sent in ${item.parts} parallel parts` : null}
        </p>
      ) : null}
      {item.error ? (
        <p className="error small" role="alert">
          {item.error}
        </p>
      ) : null}
      <div className="row gap">
        {item.status === 'uploading' ? (
          <button type="button" className="small secondary" onClick={() => uploadStore.pause(item.key)}>
            Pause
          </button>
        ) : null}
        {item.status === 'paused' || item.status === 'error' ? (
          <button type="button" className="small secondary" onClick={() => uploadStore.resume(item.key)}>
            {item.status === 'error' ? 'Retry' : 'Resume'}
          </button>
        ) : null}
        {item.status === 'uploading' || item.status === 'paused' || item.status === 'error' ? (
          <button type="button" className="small danger" onClick={() => uploadStore.cancel(item.key)}>
            Cancel
          </button>
        ) : (
          <button type="button" className="small link" onClick={() => uploadStore.dismiss(item.key)}>
            Dismiss
          </button>
        )}
      </div>
    </li>
  );
}
