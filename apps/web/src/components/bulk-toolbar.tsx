import { type BulkFilesInput, MAX_BULK_FILES } from '@tagdrop/contracts';
import { errorCodeOf } from '@tagdrop/contracts/session';
import { useMutation } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { fromLocalInput, parseHashtags } from '../lib/format';
import { sameOrigin } from '../lib/links';
import type { Selection } from '../lib/selection';
import { errorMessage, queryClient, trpc } from '../lib/trpc';

const plural = (n: number) => `${n} file${n === 1 ? '' : 's'}`;

const DONE: Record<BulkFilesInput['action'], string> = {
  delete: 'Deleted',
  add_hashtags: 'Tagged',
  remove_hashtags: 'Untagged',
  make_public: 'Made public',
  make_private: 'Made private',
  set_expiry: 'Set the expiry of',
};

/**
 * Saves a ZIP from its short-lived link (files.zipLink): the browser downloads it itself, streaming the archive to
 * disk as the server builds it (never into this page's memory, whatever the size of the selection).
 */
function saveZip(downloadUrl: string) {
  const a = document.createElement('a');
  a.href = sameOrigin(downloadUrl);
  a.download = '';
  document.body.append(a);
  a.click();
  a.remove();
}

/** What to do with the files selected on My files: one request per action. */
export function BulkToolbar({ selection, listed }: { selection: Selection; listed: number }) {
  const ids = { all: useId(), tags: useId(), exp: useId(), confirm: useId() };
  const [tags, setTags] = useState('');
  const [expires, setExpires] = useState('');
  const [done, setDone] = useState('');
  const [confirming, setConfirming] = useState(false);
  const allBox = useRef<HTMLInputElement>(null);
  const count = selection.ids.length;
  const none = count === 0;

  useEffect(() => {
    if (allBox.current) allBox.current.indeterminate = selection.someSelected;
  }, [selection.someSelected]);

  const bulk = useMutation(
    trpc.files.bulk.mutationOptions({
      onSuccess: (result, input) => {
        setDone(`${DONE[input.action]} ${plural(result.updated)}.`);
        if (input.action === 'delete') {
          selection.clear();
          setConfirming(false);
        }
        if (input.action.endsWith('hashtags')) setTags('');
        void queryClient.invalidateQueries({ queryKey: trpc.files.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.public.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.hashtags.pathKey() });
      },
    }),
  );
  const zip = useMutation(
    trpc.files.zipLink.mutationOptions({
      onSuccess: (link, input) => {
        saveZip(link.download_url);
        setDone(`Downloading ${plural(input.ids.length)} as a ZIP.`);
      },
    }),
  );
  const busy = bulk.isPending || zip.isPending;
  const run = (input: Omit<BulkFilesInput, 'ids'> & Record<string, unknown>) => {
    setDone('');
    zip.reset();
    bulk.mutate({ ...input, ids: selection.ids } as BulkFilesInput);
  };
  const tooMany = count > MAX_BULK_FILES;
  const error = bulk.isError ? errorMessage(bulk.error) : zip.isError ? errorMessage(zip.error) : null;

  if (listed === 0) return null;
  return (
    <section className="bulk-toolbar panel" aria-label="Selected files">
      <div className="row gap wrap">
        <label className="checkbox" htmlFor={ids.all}>
          <input
            id={ids.all}
            ref={allBox}
            type="checkbox"
            checked={selection.allSelected}
            onChange={(e) => selection.setAll(e.target.checked)}
          />
          Select all on page
        </label>
        <span className="muted small" aria-live="polite" data-testid="selected-count">
          {none ? 'No file selected' : `${plural(count)} selected`}
        </span>
        {none ? null : (
          <button type="button" className="link small" onClick={selection.clear}>
            Clear selection
          </button>
        )}
      </div>
      <fieldset className="bulk-actions" disabled={none || busy || tooMany}>
        <legend className="visually-hidden">Actions on the selected files</legend>
        <div className="row gap wrap">
          <button type="button" className="secondary small" onClick={() => run({ action: 'make_public' })}>
            Make public
          </button>
          <button type="button" className="secondary small" onClick={() => run({ action: 'make_private' })}>
            Make private
          </button>
          <button
            type="button"
            className="secondary small"
            onClick={() => {
              setDone('');
              bulk.reset();
              zip.mutate({ ids: selection.ids });
            }}
          >
            {zip.isPending ? 'Preparing ZIP…' : 'Download as ZIP'}
          </button>
          <button type="button" className="danger small" onClick={() => setConfirming(true)}>
            Delete…
          </button>
        </div>
        {confirming && !none ? (
          <div role="alertdialog" aria-labelledby={ids.confirm} className="row gap wrap">
            <p id={ids.confirm}>
              Delete <strong>{plural(count)}</strong> for good? Their links stop working at once.
            </p>
            <button type="button" className="danger small" onClick={() => run({ action: 'delete' })}>
              {bulk.isPending ? 'Deleting…' : `Yes, delete ${plural(count)}`}
            </button>
            <button type="button" className="secondary small" onClick={() => setConfirming(false)}>
              Keep them
            </button>
          </div>
        ) : null}
        <div className="row gap wrap">
          <label htmlFor={ids.tags}>Tags to add or remove</label>
          <input id={ids.tags} placeholder="#holiday, 2026" value={tags} onChange={(e) => setTags(e.target.value)} />
          <button
            type="button"
            className="secondary small"
            disabled={!tags.trim()}
            onClick={() => run({ action: 'add_hashtags', hashtags: parseHashtags(tags) })}
          >
            Add hashtags
          </button>
          <button
            type="button"
            className="secondary small"
            disabled={!tags.trim()}
            onClick={() => run({ action: 'remove_hashtags', hashtags: parseHashtags(tags) })}
          >
            Remove hashtags
          </button>
        </div>
        <div className="row gap wrap">
          <label htmlFor={ids.exp}>New expiry</label>
          <input id={ids.exp} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          <button
            type="button"
            className="secondary small"
            disabled={!expires}
            onClick={() => run({ action: 'set_expiry', expires_at: fromLocalInput(expires) })}
          >
            Set expiry
          </button>
          <button
            type="button"
            className="secondary small"
            onClick={() => run({ action: 'set_expiry', expires_at: null })}
          >
            Never expire
          </button>
        </div>
      </fieldset>
      {tooMany ? (
        <p className="error small" role="alert">
          At most {MAX_BULK_FILES} files at once.
        </p>
      ) : null}
      {done && !error ? (
        <p className="success small" role="status">
          {done}
        </p>
      ) : null}
      {error ? (
        <p className="error" role="alert">
          {errorCodeOf(bulk.error) === 'not_found' ? 'Some of these files are gone; reload the page.' : error}
        </p>
      ) : null}
    </section>
  );
}
