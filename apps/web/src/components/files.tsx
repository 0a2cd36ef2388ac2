import type { FileListItemDto } from '@tagdrop/contracts';
import { Link } from '@tanstack/react-router';
import { formatBytes, formatDate } from '../lib/format';
import type { Selection } from '../lib/selection';

export function HashtagLink({ tag }: { tag: string }) {
  return (
    <Link to="/tags/$tag" params={{ tag }} className="chip" aria-label={`Files tagged ${tag}`}>
      #{tag}
    </Link>
  );
}

export function Hashtags({ tags }: { tags: string[] }) {
  if (tags.length === 0) return null;
  return (
    <ul className="chips" aria-label="Hashtags">
      {tags.map((t) => (
        <li key={t}>
          <HashtagLink tag={t} />
        </li>
      ))}
    </ul>
  );
}

/** A list item's checkbox: `range` is true for a Shift-click (everything since the last click follows). */
export interface CardSelect {
  checked: boolean;
  onToggle: (range: boolean) => void;
}

/** One file in a list. `mine` links to the detail page; otherwise the name downloads. */
export function FileCard({ file, mine, select }: { file: FileListItemDto; mine: boolean; select?: CardSelect }) {
  return (
    <li className={select?.checked ? 'file-card selected' : 'file-card'} data-testid="file-card">
      {select ? (
        <input
          type="checkbox"
          className="file-select"
          aria-label={`Select ${file.name}`}
          checked={select.checked}
          // React's change event for a checkbox is the click: it carries the Shift key.
          onChange={(e) => select.onToggle((e.nativeEvent as MouseEvent).shiftKey === true)}
        />
      ) : null}
      <div className="file-main">
        <h3 className="file-name">
          {mine ? (
            <Link to="/files/$id" params={{ id: file.id }}>
              {file.name}
            </Link>
          ) : (
            <a href={`/f/${file.id}`} download>
              {file.name}
            </a>
          )}
        </h3>
        <p className="meta">
          {formatBytes(file.size)} · {formatDate(file.created_at)}
          {mine ? (
            <span className={file.is_public ? 'badge public' : 'badge private'}>
              {file.is_public ? 'Public' : 'Private'}
            </span>
          ) : null}
          {file.expires_at ? <span className="badge">Expires {formatDate(file.expires_at)}</span> : null}
        </p>
        {file.description ? <p className="description">{file.description}</p> : null}
        <Hashtags tags={file.hashtags} />
      </div>
      <div className="file-actions">
        <a className="button small secondary" href={`/f/${file.id}`} download aria-label={`Download ${file.name}`}>
          Download
        </a>
        {mine ? <span className="muted small">{file.stats.clicks} clicks</span> : null}
      </div>
    </li>
  );
}

export function FileListView({
  files,
  mine,
  empty,
  selection,
}: {
  files: FileListItemDto[];
  mine: boolean;
  empty: React.ReactNode;
  /** Multi-select (My files): a checkbox per file. */
  selection?: Selection;
}) {
  if (files.length === 0) return <p className="empty">{empty}</p>;
  return (
    <ul className="file-list">
      {files.map((f) => (
        <FileCard
          key={f.id}
          file={f}
          mine={mine}
          select={
            selection ? { checked: selection.has(f.id), onToggle: (range) => selection.toggle(f.id, range) } : undefined
          }
        />
      ))}
    </ul>
  );
}

export function LoadMore({ hasNext, loading, onClick }: { hasNext: boolean; loading: boolean; onClick: () => void }) {
  if (!hasNext) return null;
  return (
    <div className="load-more">
      <button type="button" className="secondary" onClick={onClick} disabled={loading}>
        {loading ? 'Loading…' : 'Load more'}
      </button>
    </div>
  );
}
