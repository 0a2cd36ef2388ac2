import type { FileDto } from '@tagdrop/contracts';
import { fileKind } from '@tagdrop/contracts/file-kinds';
import { lazy, Suspense } from 'react';
import { formatBytes } from '../lib/format';
import { TypeIcon } from './type-icon';

const TextPreview = lazy(() => import('./text-preview'));

export interface PreviewSources {
  /** The bytes (Range works): /s/{token}, or /f/{id} with a preview grant. */
  content: string;
  /** PDFs: the frame-able copy (/s/{token}/view, /f/{id}/view?grant=…). */
  view: string | null;
}

/**
 * What a file looks like, in the browser itself: images, video and audio in the page's own players (their Range
 * requests stream big files), PDFs in the browser's viewer inside a frame whose document is sandboxed by its
 * response header, the start of text files as text. Anything else: its type, size and icon.
 */
export function FilePreview({
  file,
  sources,
}: {
  file: Pick<FileDto, 'name' | 'mime_type' | 'size'>;
  sources: PreviewSources;
}) {
  const kind = fileKind(file.mime_type);
  const fallback = <FileFacts file={file} />;
  let body: React.ReactNode;
  switch (kind) {
    case 'image':
      body = <img className="preview-image" src={sources.content} alt={file.name} />;
      break;
    case 'video':
    case 'audio': {
      // User uploads come without caption tracks.
      const Player = kind;
      body = (
        <Player className={`preview-${kind}`} controls preload="metadata" src={sources.content} aria-label={file.name}>
          {fallback}
        </Player>
      );
      break;
    }
    case 'pdf':
      // No sandbox attribute: Chromium's PDF viewer refuses to run in <iframe sandbox>. The document is sandboxed by
      // its own response (CSP `sandbox`; only this site may frame it), see apps/api/src/downloads/respond.ts.
      body = sources.view ? (
        <iframe className="preview-pdf" src={sources.view} title={`PDF: ${file.name}`} />
      ) : (
        fallback
      );
      break;
    case 'text':
      body = (
        <Suspense fallback={<p className="muted">Loading preview…</p>}>
          <TextPreview url={sources.content} name={file.name} size={file.size} />
        </Suspense>
      );
      break;
    default:
      body = fallback;
  }
  return (
    <section className="panel preview" aria-label="Preview" data-kind={kind}>
      {body}
    </section>
  );
}

export function FileFacts({
  file,
  note = 'No preview for this type: download it to open it.',
}: {
  file: Pick<FileDto, 'name' | 'mime_type' | 'size'>;
  note?: string;
}) {
  return (
    <div className="file-facts">
      <TypeIcon mimeType={file.mime_type} name={file.name} className="large" />
      <p>
        <strong>{formatBytes(file.size)}</strong>
        <br />
        <span className="muted">{file.mime_type}</span>
      </p>
      <p className="muted small">{note}</p>
    </div>
  );
}
