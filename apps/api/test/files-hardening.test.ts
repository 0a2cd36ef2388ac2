import { promises as fs } from 'node:fs';
import { request } from 'node:http';
import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedObjects } from './files-helpers.js';
import { startTestApp, type TestApp } from './harness.js';

let app: TestApp;
let access: string;
beforeAll(async () => {
  app = await startTestApp({ MAX_UPLOAD_BYTES: '100000', USER_QUOTA_BYTES: '250000' });
  ({ access } = await app.login('hardening@example.com'));
});
afterAll(async () => {
  await app?.stop();
});

const upload = (name: string, bytes: number) => {
  const form = new FormData();
  form.set('file', new Blob([Buffer.alloc(bytes, 1)]), name);
  return fetch(`${app.url}/api/files/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${access}` } });
};
const storedBytes = async () =>
  Number(
    (
      await app.deps.db
        .selectFrom('files')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('size'), eb.val('0')).as('s'))
        .executeTakeFirstOrThrow()
    ).s,
  );
const openFilesUnder = async (dir: string) => {
  const fds = await fs.readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((t) => t.startsWith(dir));
};

describe('quota under concurrency', () => {
  it('parallel multipart uploads cannot together overrun the quota', async () => {
    const results = await Promise.all([1, 2, 3, 4, 5].map((i) => upload(`p${i}.bin`, 90_000)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(2);
    expect(statuses.every((s) => s === 201 || s === 413)).toBe(true);
    expect(await storedBytes()).toBeLessThanOrEqual(250_000);
    for (const r of results.filter((x) => x.status === 413)) {
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('quota_exceeded');
    }
  });

  it('uploads without a declared length are counted at the largest file size until they declare it', async () => {
    await app.deps.db.deleteFrom('files').execute();
    const started: string[] = [];
    const results = await Promise.all(
      [1, 2, 3, 4].map(
        (i) =>
          new Promise<number>((resolve) => {
            const u = new tus.Upload(Buffer.alloc(0), {
              endpoint: `${app.url}/uploads/`,
              headers: { authorization: `Bearer ${access}` },
              uploadLengthDeferred: true,
              metadata: { filename: `deferred${i}.bin` },
              retryDelays: [],
              onUploadUrlAvailable: () => {
                started.push(u.url as string);
                resolve(201);
                void u.abort();
              },
              onError: (err) => resolve((err as tus.DetailedError).originalResponse?.getStatus() ?? 0),
            });
            u.start();
          }),
      ),
    );
    // Each counts as 100,000 bytes: 250,000 bytes of quota admit three (the third may only grow to 50,000),
    // and the fourth finds no quota left.
    expect(results.filter((s) => s === 201)).toHaveLength(3);
    expect(results.filter((s) => s === 413)).toHaveLength(1);
  });
});

describe('a client that disconnects during a multipart upload', () => {
  it('leaves no open file, no partial object and no reservation behind', async () => {
    await app.deps.db.deleteFrom('uploads').execute();
    const before = await storedObjects(app);
    const boundary = 'x-tagdrop-boundary';
    await new Promise<void>((resolve) => {
      const req = request(`${app.url}/api/files/`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${access}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': String(90_000),
        },
      });
      req.on('error', () => resolve());
      req.write(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`);
      req.write(Buffer.alloc(30_000, 2));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    // Local: no file handle left open under STORAGE_DIR (on s3 nothing is opened there: the bucket below).
    await expect.poll(async () => (await openFilesUnder(app.config.storageDir)).length, { timeout: 5_000 }).toBe(0);
    // The reservation goes last, once the staged bytes are discarded.
    await expect
      .poll(async () => (await app.deps.db.selectFrom('uploads').select('id').execute()).length, { timeout: 5_000 })
      .toBe(0);
    // No new object (local: no `.part` file; s3: no object, no open multipart upload under S3_PREFIX).
    expect(await storedObjects(app)).toEqual(before);
  });
});

describe('malformed identifiers', () => {
  it('a tus file_id that is not an id is a 400 invalid_metadata, not a server error', async () => {
    const res = await fetch(`${app.url}/uploads/`, {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        authorization: `Bearer ${access}`,
        'upload-length': '10',
        'upload-metadata': `filename ${Buffer.from('a.txt').toString('base64')},file_id ${Buffer.from('abc').toString('base64')}`,
      },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_metadata');
  });

  it('a forged cursor is a 400 validation_error', async () => {
    const cursor = Buffer.from(`9999-99-99T00:00:00Z|${'-'.repeat(36)}`).toString('base64url');
    const res = await app.api<{ error: { code: string } }>('GET', `/api/public/files/?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
  });
});

describe('malformed multipart bodies', () => {
  const B = 'tagdrop-b';
  const filePart = (name: string, content: string, field = 'file') =>
    `--${B}\r\ncontent-disposition: form-data; name="${field}"; filename="${name}"\r\ncontent-type: text/plain\r\n\r\n${content}\r\n`;
  const fieldPart = (name: string, value: string) =>
    `--${B}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const end = `--${B}--\r\n`;
  const send = async (
    method: string,
    path: string,
    body: string,
    contentType = `multipart/form-data; boundary=${B}`,
  ) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${access}`, 'content-type': contentType },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
  };
  let target: { id: string; sha256: string; name: string };
  const leftovers = async () => ({
    uploads: (await app.deps.db.selectFrom('uploads').select('id').where('completed_at', 'is', null).execute()).length,
    files: (await app.deps.db.selectFrom('files').select('id').execute()).length,
  });

  beforeAll(async () => {
    await app.deps.db.deleteFrom('files').execute();
    await app.deps.db.deleteFrom('uploads').execute();
    const created = await send('POST', '/api/files/', filePart('original.txt', 'original content') + end);
    expect(created.status).toBe(201);
    target = created.body as never;
  });

  const cases: [string, string, string?][] = [
    ['no boundary in the Content-Type', 'abc', 'multipart/form-data'],
    ['a boundary that never appears', 'abc'],
    ['a file part cut off (no closing boundary)', filePart('cut.txt', 'new content').slice(0, -2)],
    ['a field cut off', `${fieldPart('description', 'hello').slice(0, -10)}`],
    ['two file parts', filePart('a.txt', 'new a') + filePart('b.txt', 'new b') + end],
    ['a file in another field', filePart('a.txt', 'new a', 'attachment') + end],
    ['a garbled part header', `--${B}\r\nthis is not a header\r\n\r\nnew\r\n${end}`],
  ];

  it.each(cases)('POST /api/files/ with %s: 400 validation_error, nothing stored', async (_what, body, type) => {
    const before = await leftovers();
    const res = await send('POST', '/api/files/', body, type);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.body.error.message).not.toMatch(/busboy|boundary not found|reach files limit/i);
    expect(await leftovers()).toEqual(before);
  });

  it.each(cases)(
    'PUT /api/files/{id}/ with %s: 400 validation_error, the file unchanged',
    async (_what, body, type) => {
      const res = await send('PUT', `/api/files/${target.id}/`, body, type);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      const after = await app.api<{ sha256: string; name: string }>('GET', `/api/files/${target.id}/`, {
        token: access,
      });
      expect(after.body.sha256).toBe(target.sha256);
      expect(after.body.name).toBe(target.name);
      const content = await fetch(`${app.url}/f/${target.id}`, { headers: { authorization: `Bearer ${access}` } });
      expect(await content.text()).toBe('original content');
    },
  );

  it('a PUT whose metadata after the file is invalid replaces nothing', async () => {
    const res = await send(
      'PUT',
      `/api/files/${target.id}/`,
      filePart('new.txt', 'replaced?') + fieldPart('expires_at', 'not a date') + end,
    );
    expect(res.status).toBe(400);
    const content = await fetch(`${app.url}/f/${target.id}`, { headers: { authorization: `Bearer ${access}` } });
    expect(await content.text()).toBe('original content');
    expect((await leftovers()).uploads).toBe(0);
  });

  it('a POST whose metadata after the file is invalid stores nothing', async () => {
    const before = await leftovers();
    const res = await send('POST', '/api/files/', filePart('new.txt', 'x') + fieldPart('is_public', 'maybe') + end);
    expect(res.status).toBe(400);
    expect(await leftovers()).toEqual(before);
  });
});

describe('file names with bidirectional controls', () => {
  // U+202E RIGHT-TO-LEFT OVERRIDE makes "\u202Egnp.exe" display as "exe.png".
  const disguised = '\u202Egnp.exe';
  const controls = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;
  const nameOf = async (id: string) =>
    (await app.api<{ name: string }>('GET', `/api/files/${id}/`, { token: access })).body.name;

  it('are stripped from multipart uploads, tus metadata, PATCH and the tRPC update', async () => {
    await app.deps.db.deleteFrom('files').execute();
    const form = new FormData();
    form.set('file', new Blob(['x']), disguised);
    const multipart = await fetch(`${app.url}/api/files/`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${access}` },
    });
    expect(multipart.status).toBe(201);
    const { id } = (await multipart.json()) as { id: string };
    expect(await nameOf(id)).toBe('gnp.exe');

    const viaTus = await new Promise<string>((resolve, reject) => {
      const u = new tus.Upload(Buffer.from('y'), {
        endpoint: `${app.url}/uploads/`,
        headers: { authorization: `Bearer ${access}` },
        metadata: { filename: `\u2067report\u2069\u200F.pdf\u061C\u200E.exe` },
        retryDelays: [],
        onSuccess: () => resolve((u.url as string).split('/').pop() as string),
        onError: reject,
      });
      u.start();
    });
    expect(await nameOf(viaTus)).toBe('report.pdf.exe');

    const patched = await app.api<{ name: string }>('PATCH', `/api/files/${id}/`, {
      token: access,
      body: { name: `invoice\u202Dfdp.exe\u202C` },
    });
    expect(patched.body.name).toBe('invoicefdp.exe');

    const { trpc } = await import('./files-helpers.js');
    const updated = await trpc(app, access).files.update.mutate({ id, name: `\u202Bx\u202Atxt.exe` });
    expect(updated.name).toBe('xtxt.exe');

    const download = await fetch(`${app.url}/f/${id}`, { headers: { authorization: `Bearer ${access}` } });
    expect(controls.test(decodeURIComponent(download.headers.get('content-disposition') ?? ''))).toBe(false);
  });

  it('a name made only of controls falls back to a plain name', async () => {
    const form = new FormData();
    form.set('file', new Blob(['z']), '\u202E\u2066\u200F');
    const res = await fetch(`${app.url}/api/files/`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${access}` },
    });
    expect(((await res.json()) as { name: string }).name).toBe('file');
  });
});
