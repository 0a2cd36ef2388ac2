import { promises as fs } from 'node:fs';
import { request } from 'node:http';
import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    await expect.poll(async () => (await openFilesUnder(app.config.storageDir)).length, { timeout: 5_000 }).toBe(0);
    await expect
      .poll(async () => (await fs.readdir(app.config.storageDir).catch(() => [])).filter((f) => f.endsWith('.part')), {
        timeout: 5_000,
      })
      .toEqual([]);
    await expect
      .poll(async () => (await app.deps.db.selectFrom('uploads').select('id').execute()).length, { timeout: 5_000 })
      .toBe(0);
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
