import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type MultipartUpload as OpenUpload,
  paginateListObjectsV2,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload as MultipartUpload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type MetadataValue, S3Store } from '@tus/s3-store';
import type { KvStore, Upload } from '@tus/utils';
import type { Config } from '../env.js';
import type { RedisHandle } from '../infra/redis.js';
import { RunningDigests } from './digest.js';
import { assertSafeKey, inBatches, type Storage } from './storage.js';

/** Parts of REST uploads (lib-storage) and of tus uploads (@tus/s3-store): 8 MiB, 4 in flight per upload. */
const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
/** The objects one stored key may have: its bytes, @tus/s3-store's `.info` and the `.part` of an unfinished chunk. */
const SUFFIXES = ['', '.info', '.part'];

type S3Config = Pick<
  Config,
  | 'S3_ENDPOINT'
  | 'S3_REGION'
  | 'S3_BUCKET'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_FORCE_PATH_STYLE'
  | 'S3_PREFIX'
  | 'S3_REQUEST_CHECKSUM'
>;

/** The SDK client settings of this configuration (the same for our client and @tus/s3-store's own). */
export function s3ClientConfig(config: S3Config): S3ClientConfig {
  const whenRequired = config.S3_REQUEST_CHECKSUM === 'when_required';
  return {
    region: config.S3_REGION ?? 'us-east-1',
    ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...(config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY } }
      : {}),
    ...(whenRequired
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
  };
}

type Input = Record<string, unknown> & { Key?: string; Prefix?: string; KeyMarker?: string };

/**
 * S3_PREFIX for every command a client sends (@tus/s3-store has no prefix option): keys, list prefixes and markers
 * get it on the way out, listed keys lose it on the way back, so callers only ever see bare keys.
 */
function prefixKeys(client: S3Client, prefix: string): void {
  if (!prefix) return;
  const strip = (items: unknown) => {
    if (!Array.isArray(items)) return;
    for (const item of items as { Key?: string }[])
      if (item.Key?.startsWith(prefix)) item.Key = item.Key.slice(prefix.length);
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const input: Input = { ...(args.input as Input) };
      if (typeof input.Key === 'string') input.Key = prefix + input.Key;
      if ('Prefix' in input || 'ContinuationToken' in input || 'UploadIdMarker' in input || 'KeyMarker' in input) {
        input.Prefix = prefix + (input.Prefix ?? '');
        if (input.KeyMarker) input.KeyMarker = prefix + input.KeyMarker;
      }
      const del = input.Delete as { Objects?: { Key?: string }[] } | undefined;
      if (del?.Objects) input.Delete = { ...del, Objects: del.Objects.map((o) => ({ ...o, Key: prefix + o.Key })) };
      const result = await next({ ...args, input });
      const output = result.output as unknown as Record<string, unknown>;
      strip(output.Contents);
      strip(output.Uploads);
      if (typeof output.NextKeyMarker === 'string' && output.NextKeyMarker.startsWith(prefix)) {
        output.NextKeyMarker = output.NextKeyMarker.slice(prefix.length);
      }
      return result;
    },
    { step: 'initialize', name: 'tagdropKeyPrefix' },
  );
}

/**
 * The operations whose S3 model says `httpChecksumRequired` (in the pinned SDK: `requestChecksumRequired: true`):
 * the object and bucket calls that S3-compatible stores of the `when_required` kind (older MinIO, Ceph RGW and
 * others) accept only with a `Content-MD5`. Of these Tagdrop sends DeleteObjects (its own deletes and
 * @tus/s3-store's remove()); the rest are here so that a future call is covered too.
 */
const CHECKSUM_REQUIRED = new Set(
  [
    'DeleteObjects',
    'PutObjectAcl',
    'PutObjectLegalHold',
    'PutObjectLockConfiguration',
    'PutObjectRetention',
    'PutObjectTagging',
    'PutBucketAcl',
    'PutBucketCors',
    'PutBucketEncryption',
    'PutBucketLifecycleConfiguration',
    'PutBucketLogging',
    'PutBucketOwnershipControls',
    'PutBucketPolicy',
    'PutBucketReplication',
    'PutBucketRequestPayment',
    'PutBucketTagging',
    'PutBucketVersioning',
    'PutBucketWebsite',
    'PutPublicAccessBlock',
  ].map((name) => `${name}Command`),
);

/**
 * S3_REQUEST_CHECKSUM=when_required: the SDK still sends a CRC32 (`x-amz-checksum-crc32` and
 * `x-amz-sdk-checksum-algorithm`) where a checksum is required, never the `Content-MD5` that the stores this mode
 * exists for ask for (aws-sdk-js-v3 #6819, #6920): DeleteObjects would fail there, and with it every delete and
 * expiry. This build-step middleware runs after the SDK's own checksum middleware (priority low) and before
 * signing: for those operations it sets `Content-MD5` (base64 MD5 of the body) and drops the CRC headers.
 */
function contentMd5WhereRequired(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown } | undefined;
      const body = request?.body ?? '';
      if (!request?.headers || !CHECKSUM_REQUIRED.has(context.commandName ?? '')) return next(args);
      if (typeof body !== 'string' && !(body instanceof Uint8Array)) return next(args); // streams: none of these
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        const lower = name.toLowerCase();
        if (lower.startsWith('x-amz-checksum-') || lower === 'x-amz-sdk-checksum-algorithm' || lower === 'content-md5')
          continue;
        headers[name] = value;
      }
      headers['content-md5'] = createHash('md5').update(body).digest('base64');
      return next({ ...args, request: { ...request, headers } });
    },
    { step: 'build', priority: 'low', name: 'tagdropContentMd5' },
  );
}

/** What every SDK client of this configuration gets: S3_PREFIX on its keys, Content-MD5 in when_required mode. */
function prepareClient(client: S3Client, config: S3Config): void {
  prefixKeys(client, config.S3_PREFIX);
  if (config.S3_REQUEST_CHECKSUM === 'when_required') contentMd5WhereRequired(client);
}

const isNotFound = (err: unknown) =>
  err instanceof Error && ['NotFound', 'NoSuchKey', 'NoSuchUpload'].includes(err.name);

/**
 * @tus/s3-store's metadata cache in Redis, shared by every instance (each PATCH may land on another one), with a
 * TTL of the upload expiry. Reads that fail fall back to the `.info` object; a failed delete fails the request (a
 * stale entry would be read by the other instances).
 */
class RedisMetadataCache implements KvStore<MetadataValue> {
  constructor(
    private readonly redis: RedisHandle,
    private readonly ttlSeconds: number,
  ) {}
  private key(id: string) {
    return `${this.redis.prefix}tus-s3:${id}`;
  }
  async get(id: string): Promise<MetadataValue | undefined> {
    const raw = await this.redis.client?.get(this.key(id)).catch(() => null);
    return raw ? (JSON.parse(raw) as MetadataValue) : undefined;
  }
  async set(id: string, value: MetadataValue): Promise<void> {
    await this.redis.client?.set(this.key(id), JSON.stringify(value), 'EX', this.ttlSeconds).catch(() => {});
  }
  async delete(id: string): Promise<void> {
    await this.redis.client?.del(this.key(id));
  }
}

/**
 * @tus/s3-store with what Tagdrop needs around it: the sha256 and first bytes computed while a chunk passes, the
 * cache dropped whenever `.info` is rewritten (a declared length must reach every instance), and termination
 * removing the `.part` object of an unfinished chunk too (the library deletes `<id>` and `<id>.info` only).
 */
class TagdropS3Store extends S3Store {
  readonly digests = new RunningDigests();

  constructor(options: ConstructorParameters<typeof S3Store>[0], config: S3Config) {
    super(options);
    prepareClient(this.client, config); // @tus/s3-store's own client: its remove() sends DeleteObjects too
  }

  protected override async saveMetadata(upload: Upload, uploadId: string): Promise<void> {
    await super.saveMetadata(upload, uploadId);
    await this.clearCache(upload.id);
  }

  override async create(upload: Upload): Promise<Upload> {
    const created = await super.create(upload);
    // An empty upload is complete at once, with no PATCH: its (empty) object is written now, as a file store's is.
    if (created.size === 0) await this.write(Readable.from([]), created.id, 0);
    return created;
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    const chunk = this.digests.chunk(id, offset);
    pipeline(readable, chunk.tap).catch(() => {}); // an error reaches the store's own pipeline through the tap
    const next = await super.write(chunk.tap, id, offset);
    chunk.done(next);
    return next;
  }

  override async remove(id: string): Promise<void> {
    this.digests.forget(id);
    try {
      await super.remove(id);
    } finally {
      await this.client.deleteObject({ Bucket: this.bucket, Key: this.partKey(id, true) });
    }
  }

  /** Drops the cached metadata of an upload whose objects are gone or no longer needed. */
  forgetUpload(id: string): Promise<void> {
    this.digests.forget(id);
    return this.clearCache(id);
  }
}

/**
 * Objects in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Garage, Ceph RGW), standard S3 calls only,
 * under S3_PREFIX. tus uploads go through @tus/s3-store (a multipart upload per tus upload); REST uploads are
 * streamed with lib-storage (a multipart upload of 8 MiB parts, 4 in flight plus the one being filled: about 40 MiB
 * per upload at most; aborted on failure).
 * `redis` shares @tus/s3-store's metadata cache between instances (in-process without Redis: one instance only).
 */
export function s3Storage(config: S3Config, options: { redis?: RedisHandle } = {}): Storage {
  const Bucket = config.S3_BUCKET ?? '';
  const clientConfig = s3ClientConfig(config);
  const client = new S3Client(clientConfig);
  prepareClient(client, config);
  let tusStore: TagdropS3Store | undefined;

  /** Open multipart uploads whose key starts with `prefix`, page by page. */
  async function* openUploads(prefix: string): AsyncIterable<OpenUpload> {
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const page = await client.send(
        new ListMultipartUploadsCommand({ Bucket, Prefix: prefix, KeyMarker, UploadIdMarker }),
      );
      yield* page.Uploads ?? [];
      if (!page.IsTruncated) return;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** Aborts the multipart uploads still open under exactly this key. */
  async function abortUploads(key: string) {
    for await (const upload of openUploads(key)) {
      if (upload.Key !== key) continue;
      await client
        .send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: upload.UploadId }))
        .catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
    }
  }

  async function deleteKeys(keys: string[]) {
    const answer = await client.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
    );
    const failed = (answer.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0)
      throw new Error(`S3 DeleteObjects failed: ${failed.map((e) => `${e.Key}: ${e.Code}`).join(', ')}`);
  }

  return {
    kind: 's3',
    async put(key, body) {
      let size = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          done(null, chunk);
        },
      });
      const upload = new MultipartUpload({
        client,
        params: { Bucket, Key: assertSafeKey(key), Body: counted },
        partSize: PART_BYTES,
        queueSize: PARTS_IN_FLIGHT,
        leavePartsOnError: false,
      });
      // A body that fails fails the upload, an upload that fails stops the body; lib-storage then aborts its
      // multipart upload, so nothing is left behind.
      const source = pipeline(body, counted);
      source.catch(() => {});
      try {
        await upload.done();
      } catch (err) {
        counted.destroy(err as Error);
        throw (
          (await source.then(
            () => null,
            (e: unknown) => e,
          )) ?? err
        );
      }
      await source;
      return { size, modifiedAt: new Date() };
    },
    async read(key, range) {
      const answer = await client.send(
        new GetObjectCommand({
          Bucket,
          Key: assertSafeKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return answer.Body as Readable;
    },
    async stat(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: assertSafeKey(key) }));
        return { size: Number(head.ContentLength ?? 0), modifiedAt: head.LastModified ?? new Date(0) };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },
    async delete(key) {
      // The object, its tus bookkeeping (.info, the .part of an unfinished chunk) and any open multipart upload.
      assertSafeKey(key);
      await tusStore?.forgetUpload(key);
      await abortUploads(key);
      await deleteKeys(SUFFIXES.map((s) => `${key}${s}`));
    },
    async deleteMany(keys) {
      // In bulk: the cached tus metadata (bounded in flight), one listing of the open multipart uploads (few: the
      // uploads in progress) instead of one per key, and the objects by DeleteObjects, 1,000 objects per call.
      for (const key of keys) assertSafeKey(key);
      const failed = new Set(await inBatches(keys, 64, async (key) => tusStore?.forgetUpload(key)));
      const wanted = new Set(keys.filter((k) => !failed.has(k)));
      try {
        for await (const upload of openUploads('')) {
          if (!upload.Key || !wanted.has(upload.Key)) continue;
          await client
            .send(new AbortMultipartUploadCommand({ Bucket, Key: upload.Key, UploadId: upload.UploadId }))
            .catch((err: unknown) => {
              if (!isNotFound(err)) failed.add(upload.Key as string);
            });
        }
      } catch {
        return { failed: keys }; // the listing failed: nothing was deleted yet, all of it waits for the next sweep
      }
      const batch = [...wanted].filter((k) => !failed.has(k));
      const perCall = Math.floor(1000 / SUFFIXES.length);
      for (let i = 0; i < batch.length; i += perCall) {
        const chunk = batch.slice(i, i + perCall);
        try {
          await deleteKeys(chunk.flatMap((key) => SUFFIXES.map((suffix) => `${key}${suffix}`)));
        } catch {
          for (const key of chunk) failed.add(key);
        }
      }
      return { failed: [...failed] };
    },
    async *list() {
      // Open multipart uploads first (few: uploads in progress), so a key is listed once; then every object,
      // page by page, its tus bookkeeping folded into its key.
      const open = new Map<string, Date>();
      for await (const u of openUploads('')) if (u.Key) open.set(u.Key, u.Initiated ?? new Date(0));
      let last: string | undefined;
      for await (const page of paginateListObjectsV2({ client }, { Bucket, Prefix: '' })) {
        for (const object of page.Contents ?? []) {
          const key = object.Key?.replace(/\.(info|part)$/, '');
          if (!key || key === last || open.has(key)) continue;
          last = key;
          yield { key, modifiedAt: object.LastModified ?? new Date(0) };
        }
      }
      for (const [key, modifiedAt] of open) yield { key, modifiedAt };
    },
    tusDataStore({ expirationPeriodInMilliseconds }) {
      tusStore = new TagdropS3Store(
        {
          s3ClientConfig: { ...clientConfig, bucket: Bucket },
          partSize: PART_BYTES,
          maxConcurrentPartUploads: PARTS_IN_FLIGHT * 4,
          expirationPeriodInMilliseconds,
          // Expiry is Tagdrop's own (upload rows, delete-expired-files): no object tags (R2 and Garage have none).
          useTags: false,
          ...(options.redis?.client
            ? { cache: new RedisMetadataCache(options.redis, Math.ceil(expirationPeriodInMilliseconds / 1000)) }
            : {}),
        },
        config,
      );
      return tusStore;
    },
    async takeUploadDigest(key) {
      return tusStore?.digests.take(key) ?? null;
    },
    async finalizeUpload(key) {
      await tusStore?.forgetUpload(key);
      await deleteKeys([`${assertSafeKey(key)}.info`, `${key}.part`]);
    },
    presignDownload(key, overrides) {
      return getSignedUrl(
        client,
        new GetObjectCommand({
          Bucket,
          Key: assertSafeKey(key),
          ResponseContentType: overrides.contentType,
          ResponseContentDisposition: overrides.contentDisposition,
        }),
        { expiresIn: overrides.expiresInSeconds },
      );
    },
  };
}
