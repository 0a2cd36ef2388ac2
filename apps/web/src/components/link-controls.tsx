import type { FileDto } from '@tagdrop/contracts';
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { formatDownloadsLeft, formatExpiry } from '../lib/format';
import { errorMessage, trpc } from '../lib/trpc';

type LinkState = Pick<FileDto, 'expires_at' | 'max_downloads' | 'downloads_left'>;

/** How long a link still works: its downloads left and its time to expiry (in the viewer's time zone). */
export function LinkFacts({ file }: { file: LinkState }) {
  return (
    <>
      <dt>Downloads</dt>
      <dd data-testid="downloads-left">{formatDownloadsLeft(file)}</dd>
      <dt>Expires</dt>
      <dd data-testid="expires">{formatExpiry(file.expires_at)}</dd>
    </>
  );
}

/** A whole number ≥ 1 from a number input, null for empty; NaN when it is neither. */
export function parseMaxDownloads(value: string): number | null {
  const text = value.trim();
  if (!text) return null;
  return /^\d+$/.test(text) && Number(text) >= 1 ? Number(text) : Number.NaN;
}

/**
 * The detail page's link controls: a password the private link asks for (write-only: it can be set, changed or
 * removed, never read back) and a limit on counted downloads (changing it starts the count again).
 */
export function LinkControls({ file, onChange }: { file: FileDto; onChange: (file: FileDto) => void }) {
  const ids = { pw: useId(), max: useId(), hint: useId() };
  const [password, setPassword] = useState('');
  const [max, setMax] = useState(file.max_downloads === null ? '' : String(file.max_downloads));
  const [done, setDone] = useState<string | null>(null);
  const update = useMutation(
    trpc.files.update.mutationOptions({
      onSuccess: (updated, input) => {
        onChange(updated);
        setPassword('');
        setMax(updated.max_downloads === null ? '' : String(updated.max_downloads));
        setDone(
          input.link_password === null
            ? 'Password removed.'
            : input.link_password
              ? 'Password set.'
              : 'Download limit saved.',
        );
      },
    }),
  );
  const maxValue = parseMaxDownloads(max);
  const maxChanged = maxValue !== file.max_downloads;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(null);
    if (Number.isNaN(maxValue)) return;
    update.mutate({
      id: file.id,
      ...(maxChanged ? { max_downloads: maxValue } : {}),
      ...(password ? { link_password: password } : {}),
    });
  };

  return (
    <section className="panel" aria-labelledby="link-controls-title">
      <h2 id="link-controls-title">Link controls</h2>
      <dl className="facts">
        <LinkFacts file={file} />
        {!file.is_public ? (
          <>
            <dt>Password</dt>
            <dd data-testid="password-state">{file.has_link_password ? 'On: the link asks for it' : 'Off'}</dd>
          </>
        ) : null}
      </dl>
      <form className="stack" onSubmit={submit}>
        {!file.is_public ? (
          <>
            <label htmlFor={ids.pw}>{file.has_link_password ? 'New link password' : 'Link password'}</label>
            <input
              id={ids.pw}
              type="password"
              autoComplete="new-password"
              maxLength={200}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </>
        ) : null}
        <label htmlFor={ids.max}>Downloads allowed</label>
        <div className="row gap">
          <input
            id={ids.max}
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            placeholder="No limit"
            aria-describedby={ids.hint}
            aria-invalid={Number.isNaN(maxValue) || undefined}
            value={max}
            onChange={(e) => setMax(e.target.value)}
          />
          {max ? (
            <button type="button" className="link small" onClick={() => setMax('')}>
              No limit
            </button>
          ) : null}
        </div>
        <p id={ids.hint} className="muted small">
          {Number.isNaN(maxValue)
            ? 'Enter a whole number of at least 1, or leave it empty for no limit.'
            : 'After that many downloads the link stops working and the file is removed. A new limit starts the count again.'}
        </p>
        <div className="row gap wrap">
          <button type="submit" disabled={update.isPending || Number.isNaN(maxValue) || (!maxChanged && !password)}>
            {update.isPending ? 'Saving…' : 'Save link controls'}
          </button>
          {file.has_link_password && !file.is_public ? (
            <button
              type="button"
              className="secondary"
              disabled={update.isPending}
              onClick={() => {
                setDone(null);
                update.mutate({ id: file.id, link_password: null });
              }}
            >
              Remove password
            </button>
          ) : null}
          {done && !update.isPending ? (
            <span className="success small" role="status">
              {done}
            </span>
          ) : null}
        </div>
        {update.isError ? (
          <p className="error" role="alert">
            {errorMessage(update.error)}
          </p>
        ) : null}
      </form>
    </section>
  );
}
