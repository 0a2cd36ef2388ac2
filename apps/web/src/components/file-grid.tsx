import type { FileListItemDto } from '@tagdrop/contracts';
import { Link } from '@tanstack/react-router';
import type { KeyboardEvent } from 'react';
import { formatBytes } from '../lib/format';
import { sameOrigin } from '../lib/links';
import { setViewMode, useViewMode } from '../lib/view-mode';
import { FileListView } from './files';
import { TypeIcon } from './type-icon';

/** The thumbnail of a file, or the picture of its type when it has none (decorative: the name says what it is). */
export function Thumb({ file }: { file: Pick<FileListItemDto, 'thumbnail_url' | 'mime_type' | 'name'> }) {
  return (
    <span className="thumb">
      {file.thumbnail_url ? (
        <img src={sameOrigin(file.thumbnail_url)} alt="" loading="lazy" decoding="async" />
      ) : (
        <TypeIcon mimeType={file.mime_type} name={file.name} className="large" />
      )}
    </span>
  );
}

/**
 * Arrow keys move the focus across the grid (up and down by a row, as laid out on screen), Home and End to the
 * first and last file; Enter opens the focused file (it is a link).
 */
function moveFocus(e: KeyboardEvent<HTMLUListElement>) {
  const links = [...e.currentTarget.querySelectorAll<HTMLAnchorElement>('a.grid-link')];
  const at = links.indexOf(document.activeElement as HTMLAnchorElement);
  if (at < 0) return;
  const top = (el: HTMLElement) => el.getBoundingClientRect().top;
  const columns = Math.max(1, links.filter((l) => Math.abs(top(l) - top(links[0] as HTMLElement)) < 2).length);
  const target = {
    ArrowRight: at + 1,
    ArrowLeft: at - 1,
    ArrowDown: at + columns,
    ArrowUp: at - columns,
    Home: 0,
    End: links.length - 1,
  }[e.key];
  if (target === undefined) return;
  e.preventDefault();
  links[Math.min(links.length - 1, Math.max(0, target))]?.focus();
}

/** Files as a grid of thumbnails. `mine` opens the detail page; otherwise the file itself (shown by the browser). */
export function FileGrid({ files, mine, empty }: { files: FileListItemDto[]; mine: boolean; empty: React.ReactNode }) {
  if (files.length === 0) return <p className="empty">{empty}</p>;
  const body = (file: FileListItemDto) => (
    <>
      <Thumb file={file} />
      <span className="grid-name">{file.name}</span>
      <span className="grid-meta">
        {formatBytes(file.size)}
        {mine ? ` · ${file.is_public ? 'Public' : 'Private'}` : ''}
      </span>
    </>
  );
  return (
    // The keys move the focus between the links inside.
    <ul className="file-grid" onKeyDown={moveFocus} aria-label="Files" data-testid="file-grid">
      {files.map((file) => (
        <li key={file.id} className="grid-card" data-testid="grid-card">
          {mine ? (
            <Link className="grid-link" to="/files/$id" params={{ id: file.id }}>
              {body(file)}
            </Link>
          ) : (
            <a className="grid-link" href={`/f/${file.id}`}>
              {body(file)}
            </a>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The grid/list switch (remembered in this browser). */
export function ViewToggle() {
  const mode = useViewMode();
  return (
    <fieldset className="view-toggle">
      <legend className="visually-hidden">Show files as</legend>
      {(['grid', 'list'] as const).map((m) => (
        <button
          key={m}
          type="button"
          className={mode === m ? 'secondary small active' : 'secondary small'}
          aria-pressed={mode === m}
          onClick={() => setViewMode(m)}
        >
          {m === 'grid' ? 'Grid' : 'List'}
        </button>
      ))}
    </fieldset>
  );
}

/** A collection of files in the remembered view. */
export function FileCollection(props: { files: FileListItemDto[]; mine: boolean; empty: React.ReactNode }) {
  return useViewMode() === 'grid' ? <FileGrid {...props} /> : <FileListView {...props} />;
}
