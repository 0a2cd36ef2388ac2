import { fileKind, typeLabel } from '@tagdrop/contracts/file-kinds';

/** A file's type as a picture: a page with its kind's colour and a short label (decorative: the name is beside it). */
export function TypeIcon({ mimeType, name, className = '' }: { mimeType: string; name: string; className?: string }) {
  const kind = fileKind(mimeType);
  return (
    <span className={`type-icon kind-${kind} ${className}`} aria-hidden="true">
      <svg viewBox="0 0 64 80" focusable="false" aria-hidden="true">
        <path d="M8 4h32l16 16v56H8z" fill="none" stroke="currentColor" strokeWidth="4" strokeLinejoin="round" />
        <path d="M40 4v16h16" fill="none" stroke="currentColor" strokeWidth="4" strokeLinejoin="round" />
      </svg>
      <span className="type-label">{typeLabel(mimeType, name)}</span>
    </span>
  );
}
