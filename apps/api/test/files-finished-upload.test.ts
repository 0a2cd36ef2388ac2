import * as tus from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './harness.js';

let app: TestApp;
let access: string;
beforeAll(async () => {
  app = await startTestApp();
  ({ access } = await app.login('finished@example.com'));
});
afterAll(async () => {
  await app?.stop();
});

const tusHeaders = (extra: Record<string, string> = {}) => ({
  'tus-resumable': '1.0.0',
  authorization: `Bearer ${access}`,
  ...extra,
});

describe('a finished upload whose last response was lost', () => {
  it('answers HEAD with the full offset, so the client completes without sending the file again', async () => {
    const bytes = Buffer.alloc(200_000, 3);
    const created = await fetch(`${app.url}/uploads/`, {
      method: 'POST',
      headers: tusHeaders({
        'upload-length': String(bytes.length),
        'upload-metadata': `filename ${Buffer.from('once.bin').toString('base64')}`,
      }),
    });
    expect(created.status).toBe(201);
    const url = created.headers.get('location') as string;
    const patched = await fetch(url, {
      method: 'PATCH',
      headers: tusHeaders({ 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }),
      body: bytes,
    });
    expect(patched.status).toBe(204);
    // Pretend that 204 never arrived: the client asks where it stands.
    const head = await fetch(url, { method: 'HEAD', headers: tusHeaders() });
    expect(head.status).toBe(200);
    expect(head.headers.get('upload-offset')).toBe(String(bytes.length));
    expect(head.headers.get('upload-length')).toBe(String(bytes.length));

    // tus-js-client resuming from that URL finishes at once, without a second upload.
    const methods: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const upload = new tus.Upload(bytes, {
        endpoint: `${app.url}/uploads/`,
        uploadUrl: url,
        headers: { authorization: `Bearer ${access}` },
        metadata: { filename: 'once.bin' },
        onBeforeRequest: (req) => {
          methods.push(req.getMethod());
        },
        onError: reject,
        onSuccess: () => resolve(),
      });
      upload.start();
    });
    expect(methods).toEqual(['HEAD']);
    const list = await app.api<{ results: { name: string; size: number }[] }>('GET', '/api/files/', { token: access });
    expect(list.body.results.filter((f) => f.name === 'once.bin')).toHaveLength(1);

    const id = url.split('/').pop() as string;
    const file = await fetch(`${app.url}/f/${id}`, { headers: { authorization: `Bearer ${access}` } });
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('does not count a finished upload twice against the quota', async () => {
    const quota = await app.api<{ results: unknown[] }>('GET', '/api/files/', { token: access });
    expect(quota.status).toBe(200);
    const used = await app.deps.db
      .selectFrom('uploads')
      .select(['id', 'completed_at'])
      .where('completed_at', 'is', null)
      .execute();
    expect(used).toEqual([]);
  });
});
