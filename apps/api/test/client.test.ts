import { Readable } from 'node:stream';
import { createTagdropClient } from '@tagdrop/contracts/client';
import { uploadFile } from '@tagdrop/contracts/upload';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeFrom, startTestApp, type TestApp } from './harness.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

describe('typed client (@tagdrop/contracts)', () => {
  it('logs in with a code, uploads with progress, lists, shares, tags, updates and deletes', async () => {
    const anonymous = createTagdropClient({ url: app.url });
    const sent = await anonymous.auth.requestOtp.mutate({ email: 'integrator@example.com' });
    expect(sent.detail).toMatch(/code/i);
    const mail = await app.mail.wait((m) => m.to === 'integrator@example.com');
    const session = await anonymous.auth.verifyOtp.mutate({
      email: 'integrator@example.com',
      otp: codeFrom(mail.text),
    });
    let token = session.access;
    const client = createTagdropClient({ url: app.url, getToken: () => token });

    const progress: number[] = [];
    const bytes = Buffer.alloc(300_000, 7);
    const file = await uploadFile(
      client,
      bytes,
      { filename: 'report.bin', hashtags: ['Q4', 'finance'], description: 'numbers #draft', is_public: false },
      { chunkSize: 64 * 1024, onProgress: (sentBytes) => progress.push(sentBytes) },
    );
    expect(file.name).toBe('report.bin');
    expect(file.size).toBe(300_000);
    expect(file.hashtags).toEqual(['draft', 'finance', 'q4']);
    expect(progress.at(-1)).toBe(300_000);
    expect(progress.length).toBeGreaterThan(2);

    const listed = await client.files.list.query({ hashtag: 'finance' });
    expect(listed.results.map((f) => f.id)).toEqual([file.id]);

    // The private link works without any token and serves the exact bytes.
    expect(file.share_url).toMatch(/\/s\/[A-Za-z0-9_-]{32,}$/);
    const shared = await fetch(file.share_url as string);
    expect(shared.status).toBe(200);
    expect(Buffer.from(await shared.arrayBuffer()).equals(bytes)).toBe(true);

    // Streams work too (length sent at the end), and tokens are read per request.
    const refreshed = await client.auth.refresh.mutate({ refresh: session.refresh });
    token = refreshed.access;
    const streamed = await uploadFile(client, Readable.from([Buffer.from('hello '), Buffer.from('stream')]), {
      filename: 'hello.txt',
      is_public: true,
    });
    expect(streamed.size).toBe(12);
    expect(streamed.mime_type).toBe('text/plain');
    expect(streamed.share_url).toBeNull();

    // A download limit travels in the upload's metadata: the file counts down, then answers 410.
    const limited = await uploadFile(client, Buffer.from('only twice'), { filename: 'twice.txt', max_downloads: 2 });
    expect(limited).toMatchObject({ name: 'twice.txt', max_downloads: 2, downloads_left: 2 });
    for (const left of [1, 0]) {
      const got = await fetch(limited.share_url as string);
      expect(got.status).toBe(200);
      expect(await got.text()).toBe('only twice');
      expect(await client.files.get.query({ id: limited.id })).toMatchObject({
        max_downloads: 2,
        downloads_left: left,
      });
    }
    expect((await fetch(limited.share_url as string)).status).toBe(410);
    const unlimited = await client.files.get.query({ id: streamed.id });
    expect(unlimited).toMatchObject({ max_downloads: null, downloads_left: null });
    await expect(uploadFile(client, Buffer.from('x'), { max_downloads: 0 })).rejects.toThrow(/max_downloads/);
    await expect(uploadFile(client, Buffer.from('x'), { max_downloads: 1.5 })).rejects.toThrow(/max_downloads/);

    const updated = await client.files.update.mutate({ id: file.id, hashtags: 'cats, #Dogs', description: '' });
    expect(updated.hashtags).toEqual(['cats', 'dogs']);
    const publicFiles = await anonymous.public.list.query({});
    expect(publicFiles.results.map((f) => f.id)).toEqual([streamed.id]);

    // Parallel parts (tus concatenation): one file, the same bytes, one progress running to the total.
    const big = Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 31) % 251));
    const partsProgress: number[] = [];
    const joined = await uploadFile(
      client,
      big,
      { filename: 'joined.bin', hashtags: ['parts'] },
      { parallel: 3, onProgress: (sentBytes, total) => partsProgress.push(sentBytes / total) },
    );
    expect(joined).toMatchObject({ name: 'joined.bin', size: big.length, hashtags: ['parts'] });
    const joinedBytes = await fetch(joined.share_url as string);
    expect(Buffer.from(await joinedBytes.arrayBuffer()).equals(big)).toBe(true);
    expect(partsProgress.at(-1)).toBe(1);
    expect((await client.files.list.query({ hashtag: 'parts' })).results.map((f) => f.id)).toEqual([joined.id]);
    await expect(uploadFile(client, Readable.from([big]), {}, { parallel: 2 })).rejects.toThrow(/parallel/);

    await client.files.delete.mutate({ id: file.id });
    await expect(client.files.get.query({ id: file.id })).rejects.toMatchObject({ data: { code: 'not_found' } });
  });
});
