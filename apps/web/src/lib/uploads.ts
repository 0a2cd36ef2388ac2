/**
 * Resumable uploads (tus 1.0 at /uploads/) with a small store the upload panel renders from.
 * The file id is the tus upload id: the last path segment of the upload URL.
 */
import { useSyncExternalStore } from 'react';
import { Upload } from 'tus-js-client';
import { auth } from './auth';

export type UploadStatus = 'uploading' | 'paused' | 'done' | 'error' | 'cancelled';

export interface UploadItem {
  key: string;
  name: string;
  size: number;
  sent: number;
  status: UploadStatus;
  error?: string;
  /** The file id once the upload URL is known. */
  id?: string;
}

export interface UploadMeta {
  description?: string;
  hashtags?: string[];
  isPublic?: boolean;
  /** ISO 8601 */
  expiresAt?: string | null;
}

type Listener = () => void;

let items: UploadItem[] = [];
const uploads = new Map<string, Upload>();
const listeners = new Set<Listener>();
const finishedListeners = new Set<(item: UploadItem) => void>();
let seq = 0;

function update(key: string, patch: Partial<UploadItem>) {
  items = items.map((i) => (i.key === key ? { ...i, ...patch } : i));
  for (const l of listeners) l();
}

function idFromUrl(url: string | null): string | undefined {
  if (!url) return undefined;
  return new URL(url, window.location.origin).pathname.split('/').filter(Boolean).pop();
}

function statusOf(err: unknown): number | undefined {
  const res = (err as { originalResponse?: { getStatus(): number } | null }).originalResponse;
  return res ? res.getStatus() : undefined;
}

function messageOf(err: unknown): string {
  const res = (err as { originalResponse?: { getBody(): string } | null }).originalResponse;
  const body = res?.getBody();
  if (body) {
    try {
      const json = JSON.parse(body) as { error?: { message?: string } };
      if (json.error?.message) return json.error.message;
    } catch {
      if (body.length < 200) return body;
    }
  }
  return err instanceof Error ? err.message.split('\n')[0]! : 'Upload failed';
}

export const uploadStore = {
  subscribe(l: Listener) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  snapshot: () => items,
  /** Called whenever an upload completes (to refresh lists). */
  onFinished(l: (item: UploadItem) => void) {
    finishedListeners.add(l);
    return () => finishedListeners.delete(l);
  },

  add(file: File, meta: UploadMeta = {}): string {
    const key = `u${++seq}`;
    items = [...items, { key, name: file.name, size: file.size, sent: 0, status: 'uploading' }];
    const metadata: Record<string, string> = {
      filename: file.name,
      filetype: file.type || 'application/octet-stream',
    };
    if (meta.description) metadata.description = meta.description;
    if (meta.hashtags?.length) metadata.hashtags = meta.hashtags.join(',');
    if (meta.isPublic !== undefined) metadata.is_public = meta.isPublic ? 'true' : 'false';
    if (meta.expiresAt) metadata.expires_at = meta.expiresAt;

    let refreshedFor401 = false;
    const upload = new Upload(file, {
      endpoint: new URL('/uploads/', window.location.origin).href,
      metadata,
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000],
      removeFingerprintOnSuccess: true,
      async onBeforeRequest(req) {
        const token = await auth.accessToken();
        if (token) req.setHeader('Authorization', `Bearer ${token}`);
      },
      onShouldRetry(err) {
        const status = statusOf(err);
        if (status === 401 && !refreshedFor401) {
          refreshedFor401 = true;
          void auth.refresh().catch(() => undefined);
          return true;
        }
        if (status === undefined) return true;
        return status === 409 || status === 423 || status >= 500;
      },
      onUploadUrlAvailable() {
        update(key, { id: idFromUrl(upload.url) });
      },
      onProgress(sent) {
        update(key, { sent });
      },
      onSuccess() {
        update(key, { sent: file.size, status: 'done', id: idFromUrl(upload.url) });
        uploads.delete(key);
        const item = items.find((i) => i.key === key);
        if (item) for (const l of finishedListeners) l(item);
      },
      onError(err) {
        update(key, { status: 'error', error: messageOf(err) });
      },
    });
    uploads.set(key, upload);
    for (const l of listeners) l();
    upload.start();
    return key;
  },

  pause(key: string) {
    const upload = uploads.get(key);
    if (!upload) return;
    void upload.abort(false);
    update(key, { status: 'paused' });
  },

  resume(key: string) {
    const upload = uploads.get(key);
    if (!upload) return;
    update(key, { status: 'uploading', error: undefined });
    upload.start();
  },

  cancel(key: string) {
    const upload = uploads.get(key);
    uploads.delete(key);
    update(key, { status: 'cancelled' });
    // Terminate on the server too (tus termination) when the upload was created.
    if (upload) void upload.abort(Boolean(upload.url)).catch(() => undefined);
  },

  dismiss(key: string) {
    items = items.filter((i) => i.key !== key);
    for (const l of listeners) l();
  },

  clearFinished() {
    items = items.filter((i) => i.status === 'uploading' || i.status === 'paused' || i.status === 'error');
    for (const l of listeners) l();
  },
};

export function useUploads(): UploadItem[] {
  return useSyncExternalStore(uploadStore.subscribe, uploadStore.snapshot, uploadStore.snapshot);
}
