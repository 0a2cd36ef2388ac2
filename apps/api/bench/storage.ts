/**
 * Upload and download of one large file through Tagdrop on each storage driver, in the same run: `local` (files
 * under STORAGE_DIR) against `s3` (the tests' S3-compatible server, test/s3-helpers.ts: s3rver behind the proxy
 * that adds the multipart listing calls, itself writing to a local directory). Both apps share nothing but the
 * machine; the drivers take turns going first. Ratio = local time / s3 time (1.0 = s3 as fast as local).
 * Knobs: BENCH_STORAGE_MIB (512), BENCH_STORAGE_ROUNDS (3).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp } from '../test/harness.js';
import { s3Env, startS3Server } from '../test/s3-helpers.js';
import { curlDownload, curlTusUpload, MiB, makeFile, median, run } from './transfer.js';

export async function benchStorage() {
  const mib = Number(process.env.BENCH_STORAGE_MIB ?? 512);
  const rounds = Number(process.env.BENCH_STORAGE_ROUNDS ?? 3);
  const bytes = mib * MiB;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-bench-storage-'));
  const source = path.join(dir, 'source.bin');
  await makeFile(source, bytes);
  const s3 = await startS3Server();
  const limits = { MAX_UPLOAD_BYTES: String(bytes * 2), USER_QUOTA_BYTES: String(bytes * (rounds + 2) * 2) };
  const apps = {
    local: await startTestApp({ ...limits, STORAGE_DIR: path.join(dir, 'local') }),
    s3: await startTestApp({ ...limits, ...s3Env(s3, `bench-${randomBytes(4).toString('hex')}/`) }),
  };
  try {
    const drivers = ['local', 's3'] as const;
    const tokens = {
      local: (await apps.local.login('bench-local@example.com')).access,
      s3: (await apps.s3.login('bench-s3@example.com')).access,
    };
    const up = { local: [] as number[], s3: [] as number[] };
    const down = { local: [] as number[], s3: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      for (const driver of i % 2 === 0 ? drivers : [...drivers].reverse()) {
        const app = apps[driver];
        const auth = [`Authorization: Bearer ${tokens[driver]}`];
        await run('sync', []);
        const t = await curlTusUpload(`${app.url}/uploads/`, source, bytes, auth);
        up[driver].push(t.seconds);
        const id = t.location.split('/').pop() as string;
        const file = await app.api<{ size: number }>('GET', `/api/files/${id}/`, { token: tokens[driver] });
        if (file.status !== 200 || file.body.size !== bytes) throw new Error(`${driver}: upload not ready`);
        down[driver].push(await curlDownload(`${app.url}/f/${id}`, auth));
        const gone = await app.api('DELETE', `/api/files/${id}/`, { token: tokens[driver] });
        if (gone.status !== 204) throw new Error(`${driver}: delete answered ${gone.status}`);
      }
    }
    const rate = (seconds: number) => (mib / seconds).toFixed(0);
    console.log(
      `storage: ${mib} MiB over loopback with curl (tus upload in one PATCH, /f download), median of ${rounds}`,
    );
    for (const [label, times] of [
      ['upload  ', up],
      ['download', down],
    ] as const) {
      const local = median(times.local);
      const s3Time = median(times.s3);
      console.log(
        `  ${label} local ${rate(local)} MiB/s, s3 ${rate(s3Time)} MiB/s, s3 vs local ${(local / s3Time).toFixed(2)}`,
      );
    }
    return { up, down };
  } finally {
    await apps.local.stop();
    await apps.s3.stop();
    await s3.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
