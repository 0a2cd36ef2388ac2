/**
 * Bytes served by the edge: a 1 GiB public download through nginx with DOWNLOAD_ACCEL=nginx (nginx → API:
 * authorize, check expiry, count the click, answer X-Accel-Redirect → nginx sends the file by sendfile) vs the
 * same nginx build serving the same file directly (a hard link to the stored object: one inode, one page cache),
 * both with curl over loopback. Warm-up download of each first; then each round syncs and the two take turns going
 * first. Ratio = direct time / accel time (1.0 = the offload costs nothing; goal >= 0.9).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp } from '../test/harness.js';
import { type Nginx, startEdge, startStatic } from '../test/nginx-helpers.js';
import { curlDownload, curlTusUpload, MiB, makeFile, median, run } from './transfer.js';

export async function benchEdge(options: { bytes?: number; rounds?: number } = {}) {
  const bytes = options.bytes ?? Number(process.env.BENCH_MIB ?? 1024) * MiB;
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 5);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-bench-edge-'));
  // nginx's workers (user nobody when started as root) read the files: the folder must be open to them.
  await fs.chmod(dir, 0o755);
  const source = path.join(dir, 'source.bin');
  await makeFile(source, bytes);
  const app = await startTestApp({
    LOG_LEVEL: 'warn',
    DOWNLOAD_ACCEL: 'nginx',
    MAX_UPLOAD_BYTES: String(bytes * 2),
    USER_QUOTA_BYTES: String(bytes * 4),
    STORAGE_DIR: path.join(dir, 'tagdrop'),
  });
  const servers: Nginx[] = [];
  try {
    const { access } = await app.login('bench-edge@example.com');
    const { location } = await curlTusUpload(`${app.url}/uploads/`, source, bytes, [`Authorization: Bearer ${access}`]);
    await fs.rm(source);
    const id = location.split('/').pop() as string;
    const made = await app.api('PATCH', `/api/files/${id}/`, { token: access, body: { is_public: true } });
    if (made.status !== 200) throw new Error(`PATCH answered ${made.status}`);
    const row = await app.deps.db
      .selectFrom('files')
      .select('storage_key')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const staticRoot = path.join(dir, 'static');
    await fs.mkdir(staticRoot);
    await fs.link(path.join(app.config.storageDir, row.storage_key), path.join(staticRoot, 'file.bin'));

    const edge = await startEdge({ apiUrl: app.url, storageDir: app.config.storageDir });
    servers.push(edge);
    const direct = await startStatic(staticRoot);
    servers.push(direct);
    const urls = { accel: `${edge.url}/f/${id}`, direct: `${direct.url}/files/file.bin` };
    const times = { accel: [] as number[], direct: [] as number[] };
    await curlDownload(urls.accel);
    await curlDownload(urls.direct);
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? (['direct', 'accel'] as const) : (['accel', 'direct'] as const);
      for (const which of order) {
        await run('sync', []);
        times[which].push(await curlDownload(urls[which]));
      }
    }
    const stats = await app.api<{ stats: { clicks: number } }>('GET', `/api/files/${id}/`, { token: access });
    const mb = bytes / MiB;
    const accel = median(times.accel);
    const plain = median(times.direct);
    console.log(`edge: ${mb} MiB over loopback with curl, warm page cache, median of ${rounds}`);
    console.log(
      `  nginx + DOWNLOAD_ACCEL=nginx ${(mb / accel).toFixed(0)} MiB/s (${accel.toFixed(3)} s), nginx direct ${(mb / plain).toFixed(0)} MiB/s (${plain.toFixed(3)} s), ratio ${(plain / accel).toFixed(2)} (goal >= 0.9)`,
    );
    console.log(`  clicks counted on the file: ${stats.body.stats.clicks} (downloads through the API: ${rounds + 1})`);
    return { accelSeconds: accel, directSeconds: plain, ratio: plain / accel };
  } finally {
    for (const s of servers) await s.stop();
    await app.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchEdge();
