/**
 * The tus 1.0 protocol text (https://tus.io/protocols/resumable-upload), checked with raw HTTP requests:
 * Tus-Resumable / Tus-Version (412), Content-Type of PATCH and creation-with-upload (415), Upload-Expires in
 * the HTTP date format, Tus-Resumable on every response but OPTIONS, HEAD's Upload-Offset and Cache-Control,
 * 409 on an offset mismatch, and the extensions announced by OPTIONS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  createRawUpload,
  download,
  type ErrorBody,
  encodeMetadata,
  loginAdmin,
  type Session,
  startFilesApp,
  stopFilesApp,
  type TestApp,
  tusRaw,
  tusUpload,
} from './files-helpers.js';

let app: TestApp;
let alice: Session;
let bob: Session;
const OFFSET = 'application/offset+octet-stream';

beforeAll(async () => {
  app = await startFilesApp();
  [alice, bob] = await Promise.all([app.login('proto-alice@example.com'), app.login('proto-bob@example.com')]);
});
afterAll(() => stopFilesApp(app));

const list = (v: string | null) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
/** The extensions Tagdrop announces (DESIGN.md). */
const EXTENSIONS = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'expiration',
  'termination',
  'checksum',
  'checksum-trailer',
  'concatenation',
  'concatenation-unfinished',
];

/** RFC 7231 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT". */
const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe('Tus-Resumable and Tus-Version', () => {
  it('a request without Tus-Resumable → 412 with Tus-Version', async () => {
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      tusResumable: null,
      headers: { 'upload-length': '10' },
    });
    expect(res.status).toBe(412);
    expect(
      res.headers
        .get('tus-version')
        ?.split(',')
        .map((v) => v.trim()),
    ).toContain('1.0.0');
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
  });

  it('an unsupported version 0.2.0 → 412 with Tus-Version, and the request is not processed', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    for (const method of ['POST', 'HEAD', 'PATCH', 'DELETE']) {
      const res = await tusRaw(app, method, method === 'POST' ? '/uploads/' : url, {
        token: alice.access,
        tusResumable: '0.2.0',
        headers: {
          'upload-length': '10',
          'upload-offset': '0',
          ...(method === 'PATCH' ? { 'content-type': OFFSET } : {}),
        },
        body: method === 'PATCH' ? Buffer.from('0123456789') : undefined,
      });
      expect(res.status, method).toBe(412);
      expect(res.headers.get('tus-version'), method).toContain('1.0.0');
    }
    const head = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe('0');
  });

  it('OPTIONS needs neither Tus-Resumable nor a token: 200 with version, every extension, max size, algorithms', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    for (const path of ['/uploads/', '/uploads', new URL(url).pathname, '/uploads/any/thing/below']) {
      const res = await tusRaw(app, 'OPTIONS', path, { tusResumable: null });
      expect(res.status, path).toBe(200);
      expect(list(res.headers.get('tus-version')), path).toContain('1.0.0');
      expect(list(res.headers.get('tus-extension')).sort(), path).toEqual([...EXTENSIONS].sort());
      expect(res.headers.get('tus-max-size'), path).toBe(String(app.config.MAX_UPLOAD_BYTES));
      expect(list(res.headers.get('tus-checksum-algorithm')).sort(), path).toEqual(['md5', 'sha1', 'sha256']);
    }
  });

  it('every response but OPTIONS carries Tus-Resumable: 1.0.0 (201, 204, 200, 401, 404, 409, 412, 415)', async () => {
    const url = await createRawUpload(app, alice.access, 4);
    const missing = `${app.url}/uploads/00000000-0000-4000-8000-000000000000`;
    const responses: [string, Response][] = [
      ['201 POST', await tusRaw(app, 'POST', '/uploads/', { token: alice.access, headers: { 'upload-length': '1' } })],
      ['200 HEAD', await tusRaw(app, 'HEAD', url, { token: alice.access })],
      [
        '409 PATCH',
        await tusRaw(app, 'PATCH', url, {
          token: alice.access,
          headers: { 'upload-offset': '2', 'content-type': OFFSET },
          body: Buffer.from('ab'),
        }),
      ],
      [
        '204 PATCH',
        await tusRaw(app, 'PATCH', url, {
          token: alice.access,
          headers: { 'upload-offset': '0', 'content-type': OFFSET },
          body: Buffer.from('ab'),
        }),
      ],
      ['401 HEAD', await tusRaw(app, 'HEAD', url)],
      ['404 HEAD', await tusRaw(app, 'HEAD', missing, { token: alice.access })],
      ['404 other user', await tusRaw(app, 'HEAD', url, { token: bob.access })],
      ['412', await tusRaw(app, 'HEAD', url, { token: alice.access, tusResumable: '0.2.0' })],
      [
        '415',
        await tusRaw(app, 'PATCH', url, {
          token: alice.access,
          headers: { 'upload-offset': '2', 'content-type': 'text/plain' },
          body: 'cd',
        }),
      ],
      ['204 DELETE', await tusRaw(app, 'DELETE', url, { token: alice.access })],
    ];
    for (const [label, res] of responses) {
      expect(res.headers.get('tus-resumable'), label).toBe('1.0.0');
      expect(String(res.status), label).toBe(label.slice(0, 3));
    }
  });
});

describe('Content-Type of requests carrying bytes', () => {
  it('PATCH with Content-Type: text/plain → 415 and no byte stored', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    const res = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '0', 'content-type': 'text/plain' },
      body: '0123456789',
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    const noType = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '0' },
      body: Buffer.from('0123456789'),
    });
    expect(noType.status).toBe(415);
    const head = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(head.headers.get('upload-offset')).toBe('0');
  });

  it('creation-with-upload: a body with the wrong Content-Type → 415, with the right one → 201 and an offset', async () => {
    const wrong = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: { 'upload-length': '5', 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(wrong.status).toBe(415);
    const right = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: {
        'upload-length': '10',
        'content-type': OFFSET,
        'upload-metadata': encodeMetadata({ filename: 'cwu.txt' }),
      },
      body: Buffer.from('hello'),
    });
    expect(right.status).toBe(201);
    expect(right.headers.get('upload-offset')).toBe('5');
  });
});

describe('creation-with-upload of a whole file', () => {
  it('a POST carrying every byte → 201 with Location and Upload-Offset = length; the file exists once', async () => {
    const body = Buffer.from('0123456789');
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: {
        'upload-length': '10',
        'content-type': OFFSET,
        'upload-metadata': encodeMetadata({ filename: 'whole.txt' }),
      },
      body,
    });
    const files = await app.deps.db
      .selectFrom('files')
      .select(['id', 'name'])
      .where('name', '=', 'whole.txt')
      .execute();
    expect(files.length).toBe(1);
    expect(res.status).toBe(201);
    expect(res.headers.get('upload-offset')).toBe('10');
    expect(res.headers.get('location')).toMatch(/\/uploads\/[0-9a-f-]{36}$/);
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
  });

  it('a POST with Upload-Length: 0 → 201 and an empty file', async () => {
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: { 'upload-length': '0', 'upload-metadata': encodeMetadata({ filename: 'zero.txt' }) },
    });
    expect(res.status).toBe(201);
    const id = (res.headers.get('location') ?? '').split('/').pop() as string;
    const row = await app.deps.db.selectFrom('files').select(['size']).where('id', '=', id).executeTakeFirst();
    expect(Number(row?.size)).toBe(0);
  });
});

describe('creation, expiration, HEAD and offsets', () => {
  it('Upload-Expires on creation is an RFC 7231 HTTP date about a day ahead', async () => {
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: { 'upload-length': '10', 'upload-metadata': encodeMetadata({ filename: 'e.txt' }) },
    });
    expect(res.status).toBe(201);
    const expires = res.headers.get('upload-expires') ?? '';
    expect(expires).toMatch(IMF_FIXDATE);
    const at = Date.parse(expires);
    expect(at).toBeGreaterThan(Date.now());
    expect(at).toBeLessThan(Date.now() + 8 * 24 * 3600 * 1000);
    const head = await tusRaw(app, 'HEAD', res.headers.get('location') as string, { token: alice.access });
    expect(head.headers.get('upload-expires') ?? '').toMatch(IMF_FIXDATE);
    expect(Math.abs(Date.parse(head.headers.get('upload-expires') as string) - at)).toBeLessThan(5000);
  });

  it('Upload-Expires on PATCH responses is an HTTP date too', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    const res = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '0', 'content-type': OFFSET },
      body: Buffer.from('01234'),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('upload-offset')).toBe('5');
    expect(res.headers.get('upload-expires') ?? '').toMatch(IMF_FIXDATE);
  });

  it('HEAD gives Upload-Offset, Upload-Length and Cache-Control: no-store, and no body', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '0', 'content-type': OFFSET },
      body: Buffer.from('abc'),
    });
    const res = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(res.status).toBe(200);
    expect(res.headers.get('upload-offset')).toBe('3');
    expect(res.headers.get('upload-length')).toBe('10');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('');
  });

  it('PATCH with a wrong Upload-Offset → 409 carrying the current Upload-Offset; the stored offset is unchanged', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '0', 'content-type': OFFSET },
      body: Buffer.from('x'),
    });
    const res = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '3', 'content-type': OFFSET },
      body: Buffer.from('abc'),
    });
    expect(res.status).toBe(409);
    expect(res.headers.get('upload-offset')).toBe('1');
    expect(((await res.json()) as ErrorBody).error.code).toBe('conflict');
    const head = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(head.headers.get('upload-offset')).toBe('1');
  });

  it('PATCH without Upload-Offset → 400 validation_error, nothing stored', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    const res = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'content-type': OFFSET },
      body: Buffer.from('abc'),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('tus-resumable')).toBe('1.0.0');
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('validation_error');
    expect(Object.keys(body.error.fields ?? {})).toContain('upload-offset');
    expect((await tusRaw(app, 'HEAD', url, { token: alice.access })).headers.get('upload-offset')).toBe('0');
  });

  it('malformed tus headers → 400 with a JSON error code, never the library text', async () => {
    const cases: [string, Record<string, string>][] = [
      ['POST', { 'upload-length': 'ten' }],
      ['POST', { 'upload-length': '-1' }],
      ['POST', { 'upload-defer-length': '2' }],
      ['POST', { 'upload-length': '5', 'upload-metadata': 'filename !!!not-base64' }],
      ['POST', {}],
    ];
    for (const [method, headers] of cases) {
      const res = await tusRaw(app, method, '/uploads/', { token: alice.access, headers });
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(res.headers.get('content-type'), JSON.stringify(headers)).toMatch(/application\/json/);
      expect(['validation_error', 'invalid_metadata'], JSON.stringify(headers)).toContain(
        ((await res.json()) as ErrorBody).error.code,
      );
    }
  });

  it('creation-defer-length: Upload-Defer-Length: 1, then the length arrives with a PATCH', async () => {
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: alice.access,
      headers: { 'upload-defer-length': '1', 'upload-metadata': encodeMetadata({ filename: 'defer.txt' }) },
    });
    expect(res.status).toBe(201);
    const url = res.headers.get('location') as string;
    const head = await tusRaw(app, 'HEAD', url, { token: alice.access });
    expect(head.headers.get('upload-defer-length')).toBe('1');
    expect(head.headers.get('upload-length')).toBeNull();
    const patch = await tusRaw(app, 'PATCH', url, {
      token: alice.access,
      headers: { 'upload-offset': '0', 'upload-length': '4', 'content-type': OFFSET },
      body: Buffer.from('four'),
    });
    expect(patch.status).toBe(204);
    expect(patch.headers.get('tagdrop-file-id')).toBe(url.split('/').pop());
  });

  it('a GET on an upload is not a download (405 with Allow), and POST to an upload URL is refused', async () => {
    const url = await createRawUpload(app, alice.access, 10);
    const get = await tusRaw(app, 'GET', url, { token: alice.access });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toContain('PATCH');
    expect(get.headers.get('tus-resumable')).toBe('1.0.0');
  });

  it('the Location of a new upload is an absolute URL under /uploads/', async () => {
    const url = await createRawUpload(app, alice.access, 1);
    expect(url).toMatch(new RegExp(`^${app.url}/uploads/[0-9a-f-]{36}$`));
  });
});

describe('termination of finished uploads', () => {
  it("DELETE of a completed upload → 204 and the file is deleted (owner or admin, as the file's own DELETE)", async () => {
    const mine = await tusUpload(app, alice.access, Buffer.from('to delete'), { filename: 'gone.txt' });
    const other = await tusRaw(app, 'DELETE', mine.url, { token: bob.access });
    expect(other.status).toBe(404);
    expect((await download(`${app.url}/f/${mine.fileId}`, bearer(alice.access))).status).toBe(200);
    const del = await tusRaw(app, 'DELETE', mine.url, { token: alice.access });
    expect(del.status).toBe(204);
    expect((await download(`${app.url}/f/${mine.fileId}`, bearer(alice.access))).status).toBe(404);
    const audit = await app.deps.db
      .selectFrom('audit_log')
      .select('action')
      .where('target_id', '=', mine.fileId)
      .where('action', '=', 'file.deleted')
      .execute();
    expect(audit.length).toBe(1);

    const admin = await loginAdmin(app, 'proto-admin@example.com');
    const bobs = await tusUpload(app, bob.access, Buffer.from('bob'), { filename: 'bob.txt' });
    expect((await tusRaw(app, 'DELETE', bobs.url, { token: admin.access })).status).toBe(204);
    expect((await download(`${app.url}/f/${bobs.fileId}`, bearer(bob.access))).status).toBe(404);
  });

  it('the quota of a terminated finished upload is free at once', async () => {
    const user = await app.login('proto-quota@example.com');
    const res = await tusRaw(app, 'POST', '/uploads/', {
      token: user.access,
      headers: { 'upload-length': '4', 'content-type': OFFSET, 'upload-metadata': encodeMetadata({ filename: 'q' }) },
      body: Buffer.from('four'),
    });
    expect(res.status).toBe(201);
    const url = new URL(res.headers.get('location') as string, app.url).toString();
    expect((await tusRaw(app, 'DELETE', url, { token: user.access })).status).toBe(204);
    const left = await app.deps.db.selectFrom('uploads').select('id').where('owner_id', '=', user.user.id).execute();
    expect(left).toEqual([]);
  });
});
