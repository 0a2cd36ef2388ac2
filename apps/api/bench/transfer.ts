/**
 * Upload and download throughput of a large file over loopback, driven by curl, each as a ratio against a
 * bare baseline started in the same run:
 *   upload:   Tagdrop's /uploads/ (auth, quota, hashing, DB rows)  vs  bare @tus/server + FileStore
 *   download: Tagdrop's /f/{id} (auth, headers, click counting)     vs  fs.createReadStream piped to the socket
 * Ratio = baseline time / Tagdrop time (1.0 = as fast as the baseline; goal ≥ 0.9).
 */
import { execFile } from 'node:child_process';
import { createReadStream, promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FileStore } from '@tus/file-store';
import { Server as TusServer } from '@tus/server';
import { startTestApp } from '../test/harness.js';

export const run = promisify(execFile);
export const MiB = 1024 * 1024;

export async function makeFile(file: string, bytes: number) {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const handle = await fs.open(file, 'w');
  for (let written = 0; written < bytes; written += MiB) await handle.write(block, 0, Math.min(MiB, bytes - written));
  await handle.close();
}

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

/**
 * Creates a tus upload (POST) and sends the whole file in one streaming PATCH with curl; returns seconds.
 * `headers` go on both requests, `patchHeaders` on the PATCH only.
 */
export async function curlTusUpload(
  endpoint: string,
  file: string,
  size: number,
  headers: string[],
  patchHeaders: string[] = [],
): Promise<{ seconds: number; location: string }> {
  const create = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'tus-resumable': '1.0.0',
      'upload-length': String(size),
      'upload-metadata': `filename ${Buffer.from('bench.bin').toString('base64')}`,
      ...Object.fromEntries(headers.map((h) => h.split(': ') as [string, string])),
    },
  });
  if (create.status !== 201) throw new Error(`create answered ${create.status}: ${await create.text()}`);
  const location = create.headers.get('location') as string;
  const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{time_total}', '-X', 'PATCH', '-T', file];
  for (const h of [
    'Tus-Resumable: 1.0.0',
    'Upload-Offset: 0',
    'Content-Type: application/offset+octet-stream',
    'Expect:',
    ...headers,
    ...patchHeaders,
  ]) {
    args.push('-H', h);
  }
  const { stdout } = await run('curl', [...args, location]);
  const [code, seconds] = stdout.trim().split(' ');
  if (code !== '204') throw new Error(`PATCH answered ${code}`);
  return { seconds: Number(seconds), location };
}

export async function curlDownload(url: string, headers: string[] = []): Promise<number> {
  const args = ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{time_total} %{size_download}'];
  for (const h of headers) args.push('-H', h);
  const { stdout } = await run('curl', [...args, url]);
  const [code, seconds] = stdout.trim().split(' ');
  if (code !== '200') throw new Error(`download answered ${code}`);
  return Number(seconds);
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function benchTransfer(options: { bytes?: number; rounds?: number } = {}) {
  const bytes = options.bytes ?? 1024 * MiB;
  const rounds = options.rounds ?? 3;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-bench-'));
  const source = path.join(dir, 'source.bin');
  await makeFile(source, bytes);

  const bareDir = path.join(dir, 'bare');
  await fs.mkdir(bareDir);
  const bareTus = new TusServer({ path: '/files', datastore: new FileStore({ directory: bareDir }) });
  const bareUpload = createServer((req, res) => void bareTus.handle(req, res));
  const bareDownload = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes) });
    createReadStream(source, { highWaterMark: 256 * 1024 }).pipe(res);
  });
  const [bareUploadUrl, bareDownloadUrl] = await Promise.all([listen(bareUpload), listen(bareDownload)]);

  const app = await startTestApp({
    MAX_UPLOAD_BYTES: String(bytes * 2),
    USER_QUOTA_BYTES: String(bytes * (rounds + 2) * 2),
    STORAGE_DIR: path.join(dir, 'tagdrop'),
  });
  try {
    const { access } = await app.login('bench@example.com');
    const auth = [`Authorization: Bearer ${access}`];
    const up = { bare: [] as number[], tagdrop: [] as number[] };
    const down = { bare: [] as number[], tagdrop: [] as number[] };
    let fileId = '';
    // Each measurement starts with no dirty pages (sync), the two servers take turns going first, and each
    // round's files are removed again, so neither side pays for the other's disk writeback.
    const bareRound = async () => {
      await run('sync', []);
      up.bare.push((await curlTusUpload(`${bareUploadUrl}/files`, source, bytes, [])).seconds);
      await fs.rm(bareDir, { recursive: true, force: true });
      await fs.mkdir(bareDir);
    };
    const tagdropRound = async (keep: boolean) => {
      await run('sync', []);
      const t = await curlTusUpload(`${app.url}/uploads/`, source, bytes, auth);
      up.tagdrop.push(t.seconds);
      const id = t.location.split('/').pop() as string;
      if (keep) fileId = id;
      else await app.api('DELETE', `/api/files/${id}/`, { token: access });
    };
    for (let i = 0; i < rounds; i++) {
      const last = i === rounds - 1;
      if (i % 2 === 0) {
        await bareRound();
        await tagdropRound(last);
      } else {
        await tagdropRound(last);
        await bareRound();
      }
    }
    await run('sync', []);
    const file = await app.api<{ sha256: string }>('GET', `/api/files/${fileId}/`, { token: access });
    if (file.status !== 200) throw new Error(`uploaded file not ready: ${file.status}`);
    for (let i = 0; i < rounds; i++) {
      down.bare.push(await curlDownload(bareDownloadUrl));
      down.tagdrop.push(await curlDownload(`${app.url}/f/${fileId}`, auth));
    }
    const mb = bytes / MiB;
    const report = {
      upload: { bareSeconds: median(up.bare), tagdropSeconds: median(up.tagdrop) },
      download: { bareSeconds: median(down.bare), tagdropSeconds: median(down.tagdrop) },
    };
    console.log(`transfer: ${mb} MiB over loopback with curl, median of ${rounds}`);
    console.log(
      `  upload   bare tus ${(mb / report.upload.bareSeconds).toFixed(0)} MiB/s, tagdrop ${(mb / report.upload.tagdropSeconds).toFixed(0)} MiB/s, ratio ${(report.upload.bareSeconds / report.upload.tagdropSeconds).toFixed(2)} (goal >= 0.9)`,
    );
    console.log(
      `  download bare fs  ${(mb / report.download.bareSeconds).toFixed(0)} MiB/s, tagdrop ${(mb / report.download.tagdropSeconds).toFixed(0)} MiB/s, ratio ${(report.download.bareSeconds / report.download.tagdropSeconds).toFixed(2)} (goal >= 0.9)`,
    );
    return report;
  } finally {
    await app.stop();
    bareUpload.close();
    bareDownload.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mib = Number(process.env.BENCH_MIB ?? 1024);
  await benchTransfer({ bytes: mib * MiB, rounds: Number(process.env.BENCH_ROUNDS ?? 3) });
}
