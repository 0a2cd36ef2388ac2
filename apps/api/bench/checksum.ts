/**
 * Cost of the tus checksum extension: the same 1 GiB sent to Tagdrop's /uploads/ in one streaming PATCH with
 * curl, with `Upload-Checksum: sha256 …` (the server hashes the chunk once more and verifies it before
 * answering) and without. Both runs hit the same server in the same process; they take turns going first.
 * Ratio = seconds without / seconds with (1.0 = free; goal ≥ 0.8).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestApp } from '../test/harness.js';
import { curlTusUpload, MiB, makeFile, median, run } from './transfer.js';

async function sha256Base64(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('base64');
}

export async function benchChecksum(options: { bytes?: number; rounds?: number } = {}) {
  const bytes = options.bytes ?? 1024 * MiB;
  const rounds = options.rounds ?? 3;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-bench-checksum-'));
  const source = path.join(dir, 'source.bin');
  await makeFile(source, bytes);
  const digest = await sha256Base64(source);
  const app = await startTestApp({
    MAX_UPLOAD_BYTES: String(bytes * 2),
    USER_QUOTA_BYTES: String(bytes * 8),
    STORAGE_DIR: path.join(dir, 'tagdrop'),
  });
  try {
    const { access } = await app.login('bench-checksum@example.com');
    const auth = [`Authorization: Bearer ${access}`];
    const times = { plain: [] as number[], checksum: [] as number[] };
    const once = async (withChecksum: boolean) => {
      await run('sync', []);
      const t = await curlTusUpload(
        `${app.url}/uploads/`,
        source,
        bytes,
        auth,
        withChecksum ? [`Upload-Checksum: sha256 ${digest}`] : [],
      );
      (withChecksum ? times.checksum : times.plain).push(t.seconds);
      await app.api('DELETE', `/api/files/${t.location.split('/').pop()}/`, { token: access });
    };
    for (let i = 0; i < rounds; i++) {
      await once(i % 2 === 1);
      await once(i % 2 === 0);
    }
    const mb = bytes / MiB;
    const plain = median(times.plain);
    const checked = median(times.checksum);
    console.log(`checksum: ${mb} MiB in one PATCH over loopback with curl, median of ${rounds}`);
    console.log(
      `  without ${(mb / plain).toFixed(0)} MiB/s, with sha256 Upload-Checksum ${(mb / checked).toFixed(0)} MiB/s, ratio ${(plain / checked).toFixed(2)} (goal >= 0.8)`,
    );
    return { plainSeconds: plain, checksumSeconds: checked };
  } finally {
    await app.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mib = Number(process.env.BENCH_MIB ?? 1024);
  await benchChecksum({ bytes: mib * MiB, rounds: Number(process.env.BENCH_ROUNDS ?? 3) });
}
