/**
 * An S3-compatible server for tests and benches: s3rver (a filesystem-backed S3 emulator) behind a small HTTP
 * proxy that adds the three multipart operations s3rver 3.7 lacks and @tus/s3-store needs — ListParts,
 * ListMultipartUploads and AbortMultipartUpload — read from and applied to s3rver's own on-disk multipart state
 * (`<dir>/<bucket>/._S3rver_uploads/<uploadId>/{key,metadata,<part>,<part>.md5}`), and that refuses DeleteObjects
 * without a correct Content-MD5, as older MinIO and Ceph RGW do (the stores S3_REQUEST_CHECKSUM=when_required is
 * for; the SDK sends a CRC32 there unless Tagdrop's middleware adds the MD5). Everything else (objects,
 * multipart create/upload/complete, signatures, presigned URLs, response-header overrides) is s3rver's. Each call
 * gets its own temp directory and free ports; stop() closes both servers and removes the directory.
 * Point clients at it with path-style addressing and S3_REQUEST_CHECKSUM=when_required (s3rver stores the SDK's
 * default aws-chunked framing as data).
 */
import crypto, { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface S3TestServer {
  /** http://127.0.0.1:<port> (path-style) */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/** s3rver's built-in account. */
const ACCESS_KEY = 'S3RVER';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

function sendXml(res: ServerResponse, status: number, body: string) {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}
const noSuchUpload = (res: ServerResponse) =>
  sendXml(res, 404, '<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');

interface PendingUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

/**
 * s3rver encrypts its ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 17 and later) has
 * only in its legacy provider: without this, s3rver answers InternalError to every listing longer than one page.
 * Two-key triple DES with both keys equal is the same cipher (the same tokens), from the default provider. Only
 * the algorithm `des` is redirected (nothing else in this process uses it); in place while any test server runs.
 */
function letS3rverPaginate(): () => void {
  const { createCipheriv, createDecipheriv } = crypto;
  const des = (key: crypto.CipherKey) => Buffer.concat([key as Buffer, key as Buffer]);
  crypto.createCipheriv = ((algorithm: string, key: crypto.CipherKey, iv: Buffer) =>
    algorithm === 'des'
      ? createCipheriv('des-ede-cbc', des(key), iv)
      : createCipheriv(algorithm, key, iv)) as typeof createCipheriv;
  crypto.createDecipheriv = ((algorithm: string, key: crypto.CipherKey, iv: Buffer) =>
    algorithm === 'des'
      ? createDecipheriv('des-ede-cbc', des(key), iv)
      : createDecipheriv(algorithm, key, iv)) as typeof createDecipheriv;
  return () => {
    crypto.createCipheriv = createCipheriv;
    crypto.createDecipheriv = createDecipheriv;
  };
}

let paginating = 0;
let undoPaginate: (() => void) | undefined;

export interface S3TestServerOptions {
  /** Sees every request as it reaches the wrapper (method, URL, headers), before it is handled or forwarded. */
  onRequest?: (req: IncomingMessage) => void;
}

export async function startS3Server(options: S3TestServerOptions = {}): Promise<S3TestServer> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-s3-'));
  const bucket = 'tagdrop-test';
  // Loaded here, not at import: the test harness imports this file for s3Env only.
  const { default: S3rver } = await import('s3rver');
  if (paginating++ === 0) undoPaginate = letS3rverPaginate();
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const inner = (await s3rver.run()) as AddressInfo;
  const uploadsDir = path.join(directory, bucket, '._S3rver_uploads');

  const pendingUpload = async (uploadId: string): Promise<PendingUpload | null> => {
    if (!/^[0-9a-f]+$/.test(uploadId)) return null;
    const dir = path.join(uploadsDir, uploadId);
    try {
      const [key, st] = await Promise.all([fs.readFile(path.join(dir, 'key'), 'utf8'), fs.stat(path.join(dir, 'key'))]);
      return { key, uploadId, initiated: st.mtime };
    } catch {
      return null;
    }
  };

  async function listParts(res: ServerResponse, key: string, query: URLSearchParams) {
    const uploadId = query.get('uploadId') ?? '';
    const upload = await pendingUpload(uploadId);
    if (!upload || upload.key !== key) return noSuchUpload(res);
    const dir = path.join(uploadsDir, uploadId);
    const marker = Number(query.get('part-number-marker') ?? 0);
    const max = Math.min(1000, Number(query.get('max-parts') ?? 1000));
    const numbers = (await fs.readdir(dir))
      .filter((f) => /^\d+$/.test(f))
      .map(Number)
      .filter((n) => n > marker)
      .sort((a, b) => a - b);
    const page = numbers.slice(0, max);
    const parts = await Promise.all(
      page.map(async (n) => {
        const [st, md5] = await Promise.all([
          fs.stat(path.join(dir, String(n))),
          fs.readFile(path.join(dir, `${n}.md5`), 'utf8').catch(() => ''),
        ]);
        return `<Part><PartNumber>${n}</PartNumber><LastModified>${st.mtime.toISOString()}</LastModified><ETag>"${md5}"</ETag><Size>${st.size}</Size></Part>`;
      }),
    );
    const truncated = numbers.length > page.length;
    sendXml(
      res,
      200,
      `<ListPartsResult ${NS}><Bucket>${bucket}</Bucket><Key>${xml(key)}</Key><UploadId>${uploadId}</UploadId>` +
        `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1) ?? marker}</NextPartNumberMarker>` +
        `<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts.join('')}</ListPartsResult>`,
    );
  }

  async function listMultipartUploads(res: ServerResponse, query: URLSearchParams) {
    const prefix = query.get('prefix') ?? '';
    const keyMarker = query.get('key-marker') ?? '';
    const idMarker = query.get('upload-id-marker') ?? '';
    const max = Math.min(1000, Number(query.get('max-uploads') ?? 1000));
    const ids = await fs.readdir(uploadsDir).catch(() => [] as string[]);
    const all = (await Promise.all(ids.map(pendingUpload)))
      .filter((u): u is PendingUpload => Boolean(u?.key.startsWith(prefix)))
      .filter(
        (u) => !keyMarker || u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker),
      )
      .sort((a, b) => (a.key === b.key ? a.uploadId.localeCompare(b.uploadId) : a.key < b.key ? -1 : 1));
    const page = all.slice(0, max);
    const last = page.at(-1);
    const truncated = all.length > page.length;
    sendXml(
      res,
      200,
      `<ListMultipartUploadsResult ${NS}><Bucket>${bucket}</Bucket><KeyMarker>${xml(keyMarker)}</KeyMarker>` +
        `<UploadIdMarker>${idMarker}</UploadIdMarker><Prefix>${xml(prefix)}</Prefix>` +
        (truncated && last
          ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextUploadIdMarker>${last.uploadId}</NextUploadIdMarker>`
          : '') +
        `<MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>` +
        page
          .map(
            (u) =>
              `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
          )
          .join('') +
        '</ListMultipartUploadsResult>',
    );
  }

  async function abort(res: ServerResponse, key: string, uploadId: string) {
    const upload = await pendingUpload(uploadId);
    if (!upload || upload.key !== key) return noSuchUpload(res);
    await fs.rm(path.join(uploadsDir, uploadId), { recursive: true, force: true });
    res.writeHead(204).end();
  }

  /**
   * DeleteObjects as the stores of S3_REQUEST_CHECKSUM=when_required (older MinIO, Ceph RGW) take it: only with a
   * Content-MD5 of the body (s3rver takes it without one); a missing or wrong one fails the whole call.
   */
  async function deleteObjects(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const sent = req.headers['content-md5'];
    if (!sent) {
      return sendXml(
        res,
        400,
        '<Error><Code>InvalidRequest</Code><Message>Missing required header for this request: Content-MD5</Message></Error>',
      );
    }
    if (sent !== crypto.createHash('md5').update(body).digest('base64')) {
      return sendXml(
        res,
        400,
        '<Error><Code>BadDigest</Code><Message>The Content-MD5 you specified did not match what we received.</Message></Error>',
      );
    }
    forward(req, res, body);
  }

  function forward(req: IncomingMessage, res: ServerResponse, body?: Buffer) {
    // The Host header stays as the client signed it (s3rver checks the signature over it).
    const { expect: _expect, ...headers } = req.headers;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: inner.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
      else res.destroy(err);
    });
    if (body) upstream.end(body);
    else req.pipe(upstream);
  }

  const proxy = createHttpServer((req, res) => {
    options.onRequest?.(req);
    const url = new URL(req.url ?? '/', 'http://s3.test');
    const [, name, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const q = url.searchParams;
    if (name === bucket && req.method === 'POST' && !key && q.has('delete')) {
      deleteObjects(req, res).catch((err) => {
        if (!res.headersSent)
          sendXml(res, 500, `<Error><Code>InternalError</Code><Message>${xml(String(err))}</Message></Error>`);
      });
      return;
    }
    const handled =
      name !== bucket
        ? null
        : req.method === 'GET' && key && q.has('uploadId')
          ? listParts(res, key, q)
          : req.method === 'GET' && !key && q.has('uploads')
            ? listMultipartUploads(res, q)
            : req.method === 'DELETE' && key && q.has('uploadId')
              ? abort(res, key, q.get('uploadId') ?? '')
              : null;
    if (!handled) return forward(req, res);
    req.resume();
    handled.catch((err) => {
      if (!res.headersSent)
        sendXml(res, 500, `<Error><Code>InternalError</Code><Message>${xml(String(err))}</Message></Error>`);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    accessKeyId: ACCESS_KEY,
    secretAccessKey: ACCESS_KEY,
    async stop() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3rver.close();
      await fs.rm(directory, { recursive: true, force: true });
      if (--paginating === 0) undoPaginate?.();
    },
  };
}

/** Tagdrop's environment for a test server, under a key prefix of its own (so tests can share one server). */
export function s3Env(server: Omit<S3TestServer, 'stop'>, prefix = `t-${randomBytes(4).toString('hex')}/`) {
  return {
    STORAGE_DRIVER: 's3',
    S3_ENDPOINT: server.endpoint,
    S3_REGION: 'us-east-1',
    S3_BUCKET: server.bucket,
    S3_ACCESS_KEY_ID: server.accessKeyId,
    S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    S3_PREFIX: prefix,
    S3_REQUEST_CHECKSUM: 'when_required',
  };
}

/** An SDK client of the test server, as the tests' own (path-style, checksums only where required). */
export async function s3Client(server: Omit<S3TestServer, 'stop'>) {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every object key and open multipart upload under `prefix` (prefix removed), read through the S3 API itself. */
export async function listBucket(
  server: Omit<S3TestServer, 'stop'>,
  prefix = '',
): Promise<{ objects: string[]; uploads: string[] }> {
  const { ListMultipartUploadsCommand, paginateListObjectsV2 } = await import('@aws-sdk/client-s3');
  const client = await s3Client(server);
  try {
    const objects: string[] = [];
    for await (const page of paginateListObjectsV2({ client }, { Bucket: server.bucket, Prefix: prefix })) {
      for (const o of page.Contents ?? []) if (o.Key) objects.push(o.Key.slice(prefix.length));
    }
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: prefix }));
    const uploads = (listed.Uploads ?? []).flatMap((u) => (u.Key ? [u.Key.slice(prefix.length)] : []));
    return { objects: objects.sort(), uploads: uploads.sort() };
  } finally {
    client.destroy();
  }
}
