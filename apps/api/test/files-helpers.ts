/**
 * Helpers for the files integration tests: a test app that stops cleanly, tus uploads through the official
 * tus-js-client, multipart uploads like `curl -F file=@x`, raw tus requests, the typed tRPC client.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createTagdropClient, type TagdropClient } from '@tagdrop/contracts/client';
import * as tus from 'tus-js-client';
import { startTestApp, type TestApp } from './harness.js';
import { listBucket } from './s3-helpers.js';

export type { TestApp };
export type FileObject = {
  id: string;
  name: string;
  size: number;
  mime_type: string;
  sha256: string | null;
  description: string;
  hashtags: string[];
  is_public: boolean;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  download_url: string;
  share_url: string | null;
  thumbnail_url: string | null;
  stats: {
    clicks: number;
    unique_visitors: number;
    last_click_at: string | null;
    daily: { date: string; clicks: number }[];
  };
};
export type ErrorBody = { error: { code: string; message: string; fields?: Record<string, string[]> } };
export type Session = { access: string; refresh: string; user: { id: string; role: string } };

export const sha256 = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');
export const bytes = (n: number) => randomBytes(n);

export async function startFilesApp(env: Record<string, string> = {}): Promise<TestApp> {
  return startTestApp(env);
}

/** Stops the app once no Agenda job runs (its drain can otherwise wait its whole timeout). */
export async function stopFilesApp(app: TestApp | undefined) {
  if (!app) return;
  for (let i = 0; i < 100; i++) {
    const stats = await app.deps.jobs.agenda.getRunningStats().catch(() => undefined);
    if (!stats || Number(stats.runningJobs) === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await app.stop();
}

/**
 * What the app's storage holds, on either driver, sorted: local — the entries of STORAGE_DIR (`.part` files of
 * half-written uploads included; `uploads` is empty); s3 — the objects under S3_PREFIX and the keys of the open
 * multipart uploads there, listed through the S3 API. "Nothing stored": two snapshots are equal.
 */
export async function storedObjects(app: Pick<TestApp, 'config'>): Promise<{ objects: string[]; uploads: string[] }> {
  const { config } = app;
  if (config.STORAGE_DRIVER === 's3') {
    const server = {
      endpoint: config.S3_ENDPOINT ?? '',
      bucket: config.S3_BUCKET ?? '',
      accessKeyId: config.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: config.S3_SECRET_ACCESS_KEY ?? '',
    };
    return listBucket(server, config.S3_PREFIX);
  }
  const objects = await readdir(config.storageDir).catch(() => [] as string[]);
  return { objects: objects.sort(), uploads: [] };
}

/** Promotes a user to admin in the database, then logs in again (the role is in the token). */
export async function loginAdmin(app: TestApp, email: string): Promise<Session> {
  await app.login(email);
  await app.deps.db.updateTable('users').set({ role: 'admin' }).where('email', '=', email).execute();
  const session = await app.login(email);
  if (session.user.role !== 'admin') throw new Error('admin login did not give an admin');
  return session;
}

export const trpc = (app: TestApp, token?: string): TagdropClient => createTagdropClient({ url: app.url, token });

export interface TusResult {
  /** The upload URL (…/uploads/<id>). */
  url: string;
  /** The file id (the upload id, or the replaced file's id; from the Tagdrop-File-Id header). */
  fileId: string;
}

export type TusOptions = Partial<tus.UploadOptions> & { token?: string };

/** A tus.Upload against the app; not started. */
export function tusUploadObject(
  app: Pick<TestApp, 'url'>,
  data: Buffer | Readable,
  metadata: Record<string, string>,
  options: TusOptions = {},
): tus.Upload {
  const { token, ...rest } = options;
  return new tus.Upload(data as never, {
    endpoint: `${app.url}/uploads/`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    metadata,
    retryDelays: null as never,
    ...rest,
  });
}

/** Error raised by tus-js-client, with the HTTP status and body when the server answered. */
export class TusFailure extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly body: string | undefined,
  ) {
    super(message);
  }
  json(): ErrorBody | undefined {
    try {
      return JSON.parse(this.body ?? '') as ErrorBody;
    } catch {
      return undefined;
    }
  }
}

/** Runs a tus.Upload to the end. */
export function runUpload(upload: tus.Upload): Promise<TusResult> {
  return new Promise((resolve, reject) => {
    upload.options.onSuccess = (payload) => {
      const header = payload?.lastResponse?.getHeader('Tagdrop-File-Id');
      const url = upload.url ?? '';
      resolve({ url, fileId: header || url.split('/').pop() || '' });
    };
    upload.options.onError = (err) => {
      const detailed = err as tus.DetailedError;
      const res = detailed.originalResponse;
      reject(new TusFailure(err.message, res?.getStatus(), res?.getBody()));
    };
    upload.start();
  });
}

export function tusUpload(
  app: Pick<TestApp, 'url'>,
  token: string,
  data: Buffer | Readable,
  metadata: Record<string, string> = {},
  options: TusOptions = {},
): Promise<TusResult> {
  return runUpload(tusUploadObject(app, data, { filename: 'file.bin', ...metadata }, { token, ...options }));
}

/** Raw tus request (fetch) with Tus-Resumable 1.0.0 unless told otherwise. */
export function tusRaw(
  app: Pick<TestApp, 'url'>,
  method: string,
  path: string,
  options: {
    token?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    tusResumable?: string | null;
  } = {},
) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.tusResumable !== null) headers['tus-resumable'] = options.tusResumable ?? '1.0.0';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const url = path.startsWith('http') ? path : `${app.url}${path}`;
  const body =
    typeof options.body === 'string' || options.body === undefined ? options.body : new Uint8Array(options.body);
  return fetch(url, { method, headers, body });
}

/** Upload-Metadata header value from a plain object. */
export const encodeMetadata = (meta: Record<string, string>) =>
  Object.entries(meta)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');

/** Creates an upload with a raw POST; returns its absolute URL. */
export async function createRawUpload(
  app: Pick<TestApp, 'url'>,
  token: string,
  length: number,
  meta: Record<string, string> = { filename: 'raw.bin' },
): Promise<string> {
  const res = await tusRaw(app, 'POST', '/uploads/', {
    token,
    headers: { 'upload-length': String(length), 'upload-metadata': encodeMetadata(meta) },
  });
  if (res.status !== 201) throw new Error(`POST /uploads/ answered ${res.status}: ${await res.text()}`);
  const location = res.headers.get('location');
  if (!location) throw new Error('no Location');
  return new URL(location, app.url).toString();
}

/** `curl -F file=@name -F k=v` against POST /api/files/ (or PUT /api/files/{id}/). */
export async function restUpload(
  app: Pick<TestApp, 'url'>,
  token: string | undefined,
  content: Buffer | string,
  options: {
    filename?: string;
    before?: Record<string, string>;
    after?: Record<string, string>;
    method?: string;
    path?: string;
    fileField?: string | null;
  } = {},
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(options.before ?? {})) form.append(k, v);
  if (options.fileField !== null) {
    form.append(
      options.fileField ?? 'file',
      new Blob([typeof content === 'string' ? content : new Uint8Array(content)]),
      options.filename ?? 'upload.bin',
    );
  }
  for (const [k, v] of Object.entries(options.after ?? {})) form.append(k, v);
  const res = await fetch(`${app.url}${options.path ?? '/api/files/'}`, {
    method: options.method ?? 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: form,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as never, headers: res.headers } as {
    status: number;
    body: FileObject & ErrorBody;
    headers: Headers;
  };
}

/** Creates a file through REST multipart and returns it (throws unless 201). */
export async function createFile(
  app: Pick<TestApp, 'url'>,
  token: string,
  content: Buffer | string,
  fields: Record<string, string> = {},
  filename = 'file.txt',
): Promise<FileObject> {
  const res = await restUpload(app, token, content, { filename, before: fields });
  if (res.status !== 201) throw new Error(`POST /api/files/ answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** GET a download URL, returning the bytes. */
export async function download(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const res = await fetch(url, { method, headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** /s/<token> path of a share_url. */
export const sharePath = (shareUrl: string) => new URL(shareUrl).pathname;

/** Awaits a tRPC call expected to fail; returns its HTTP status and error code. */
export async function trpcError(call: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await call;
  } catch (err) {
    const data = (err as { data?: { httpStatus?: number; code?: string } }).data;
    return { status: data?.httpStatus ?? -1, code: data?.code ?? 'unknown' };
  }
  throw new Error('expected the call to fail, it succeeded');
}

export const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** The status, headers and text body of a node:http response (for requests fetch() cannot make). */
export function responseText(
  res: IncomingMessage,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      body += c;
    });
    res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    res.on('error', reject);
  });
}

/** The headers of a tus PATCH sending bytes from `offset`. */
export const patchHeaders = (token: string, offset: number) => ({
  authorization: `Bearer ${token}`,
  'tus-resumable': '1.0.0',
  'upload-offset': String(offset),
  'content-type': 'application/offset+octet-stream',
});

/**
 * A tus PATCH whose body follows its headers `delayMs` later: two of them sent at once both pass the header
 * checks before either writes a byte (the race of two clients on one upload). Resolves with the status.
 */
export function latePatch(url: string, token: string, offset: number, body: Buffer, delayMs = 150) {
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'PATCH',
      headers: { ...patchHeaders(token, offset), 'content-length': String(body.length) },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.flushHeaders();
    setTimeout(() => req.end(body), delayMs);
  });
}
