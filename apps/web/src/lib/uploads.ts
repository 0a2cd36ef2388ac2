/**
 * Resumable uploads (tus 1.0 at /uploads/) with a small store the upload panel renders from.
 * The file id is the tus upload id: the last path segment of the upload URL.
 */
import { useSyncExternalStore } from 'react';
import { Upload } from 'tus-js-client';
import { auth } from './auth';
import { errorMessage, trpcClient } from './trpc';

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
  /** Bytes already on the server when this upload resumed one from before (e.g. a reload). */
  resumedFrom?: number;
  /** Sent as this many parts at once (tus concatenation). */
  parts?: number;
}

/** Files this large go up as PARALLEL_PARTS parts at once (tus concatenation); one progress bar for all. */
export const PARALLEL_FROM = 32 * 1024 * 1024;
export const PARALLEL_PARTS = 4;

export interface UploadMeta {
  description?: string;
  hashtags?: string[];
  isPublic?: boolean;
  /** ISO 8601 */
  expiresAt?: string | null;
  /** Counted downloads before the file is gone (tus metadata max_downloads). */
  maxDownloads?: number | null;
  /** A password for the private link: never tus metadata (it would sit in the upload's record), set once uploaded. */
  linkPassword?: string;
}

type Listener = () => void;

let items: UploadItem[] = [];
const uploads = new Map<string, Upload>();
const listeners = new Set<Listener>();
const finishedListeners = new Set<(item: UploadItem) => void>();
let seq = 0;
/** Uploads that resume one found in localStorage, until their first progress. */
const resuming = new Set<string>();

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
    const parts = file.size >= PARALLEL_FROM ? PARALLEL_PARTS : 1;
    items = [
      ...items,
      { key, name: file.name, size: file.size, sent: 0, status: 'uploading', ...(parts > 1 ? { parts } : {}) },
    ];
    const metadata: Record<string, string> = {
      filename: file.name,
      filetype: file.type || 'application/octet-stream',
    };
    if (meta.description) metadata.description = meta.description;
    if (meta.hashtags?.length) metadata.hashtags = meta.hashtags.join(',');
    if (meta.isPublic !== undefined) metadata.is_public = meta.isPublic ? 'true' : 'false';
    if (meta.expiresAt) metadata.expires_at = meta.expiresAt;
    if (meta.maxDownloads) metadata.max_downloads = String(meta.maxDownloads);

    let refreshedFor401 = false;
    const upload = new Upload(file, {
      endpoint: new URL('/uploads/', window.location.origin).href,
      metadata,
      chunkSize: 8 * 1024 * 1024,
      ...(parts > 1 ? { parallelUploads: parts } : {}),
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
        // The first progress of a resumed upload is where the server already stands.
        if (resuming.delete(key) && sent > 0) update(key, { sent, resumedFrom: sent });
        else update(key, { sent });
      },
      async onSuccess() {
        const id = idFromUrl(upload.url);
        uploads.delete(key);
        let error: string | undefined;
        if (meta.linkPassword && id) {
          update(key, { sent: file.size, id });
          // Nobody knows the private link yet (only its owner sees it): it is protected before it is shown.
          await trpcClient.files.update.mutate({ id, link_password: meta.linkPassword }).catch((err: unknown) => {
            error = `Uploaded, but the link password was not set (${errorMessage(err)}): set it on the file's page.`;
          });
        }
        update(key, { sent: file.size, status: 'done', id, ...(error ? { error } : {}) });
        const item = items.find((i) => i.key === key);
        if (item) for (const l of finishedListeners) l(item);
      },
      onError(err) {
        update(key, { status: 'error', error: messageOf(err) });
      },
    });
    uploads.set(key, upload);
    for (const l of listeners) l();
    // The same file added again (after a reload, or in another tab) continues where it stopped: tus-js-client
    // keeps each unfinished upload's URL(s) in localStorage under the file's fingerprint.
    upload
      .findPreviousUploads()
      .then((previous) => {
        const last = previous.sort((a, b) => Date.parse(b.creationTime) - Date.parse(a.creationTime))[0];
        if (last) {
          upload.resumeFromPreviousUpload(last);
          resuming.add(key);
        }
      })
      .catch(() => undefined)
      .finally(() => {
        if (uploads.get(key) === upload) upload.start();
      });
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
    // Terminate on the server too (tus termination), the parts of a parallel upload included.
    if (upload) void upload.abort(true).catch(() => undefined);
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
