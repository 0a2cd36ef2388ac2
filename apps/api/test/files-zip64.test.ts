/**
 * A ZIP past 4 GiB: the archive and one of its entries are larger than the 32-bit fields of a plain ZIP can say, so
 * the archive must be ZIP64. The large file is sparse on the local disk (4 GiB of zeros that take no space), so
 * the test streams real bytes without storing them twice; local storage by nature (excluded from the s3 project).
 * The archive is written to disk and checked by Info-ZIP's `unzip` (sizes listed, every CRC tested), an
 * independent reader, as a person would open it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createFile, type Session, startFilesApp, stopFilesApp, type TestApp } from './files-helpers.js';

const run = promisify(execFile);
const BIG = 4 * 1024 ** 3 + 12_345; // past 0xFFFFFFFF

let app: TestApp;
let owner: Session;
let dir: string;

beforeAll(async () => {
  app = await startFilesApp({ EXPIRY_INTERVAL: '1 hour' });
  owner = await app.login('zip64@example.com');
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-zip64-'));
});
afterAll(async () => {
  await stopFilesApp(app);
  await fs.rm(dir, { recursive: true, force: true });
});

describe('ZIP64', () => {
  it('an archive with a file over 4 GiB opens in unzip with the right sizes and CRCs', async () => {
    const small = randomBytes(1000);
    const big = await createFile(app, owner.access, Buffer.from('placeholder'), {}, 'disk image.bin');
    const other = await createFile(app, owner.access, small, {}, 'notes.bin');
    // The big file's stored bytes: the placeholder grown to BIG bytes as a sparse file (zeros after it).
    const row = await app.deps.db
      .selectFrom('files')
      .select('storage_key')
      .where('id', '=', big.id)
      .executeTakeFirstOrThrow();
    await fs.truncate(path.join(app.config.storageDir, row.storage_key), BIG);
    await app.deps.db
      .updateTable('files')
      .set({ size: String(BIG) })
      .where('id', '=', big.id)
      .execute();

    const res = await fetch(`${app.url}/api/files/zip/?ids=${big.id},${other.id}`, { headers: bearer(owner.access) });
    expect(res.status).toBe(200);
    const length = Number(res.headers.get('content-length'));
    expect(length).toBeGreaterThan(BIG);
    const archive = path.join(dir, 'files.zip');
    await pipeline(Readable.fromWeb(res.body as never), createWriteStream(archive));
    expect((await fs.stat(archive)).size).toBe(length);

    // ZIP64 end of central directory record (PK\x06\x06) and its locator (PK\x06\x07) near the end.
    const handle = await fs.open(archive, 'r');
    const tail = Buffer.alloc(1024);
    await handle.read(tail, 0, tail.length, length - tail.length);
    await handle.close();
    expect(tail.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    expect(tail.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]))).toBe(true);

    const listing = (await run('unzip', ['-Z', '-l', archive])).stdout;
    expect(listing).toMatch(new RegExp(`\\s${BIG}\\s.*disk image\\.bin`));
    expect(listing).toMatch(/\s1000\s.*notes\.bin/);
    const tested = await run('unzip', ['-t', archive], { maxBuffer: 1024 * 1024 });
    expect(tested.stdout).toContain('No errors detected');
    // The small entry's bytes are the file's.
    const extracted = await run('unzip', ['-p', archive, 'notes.bin'], { encoding: 'buffer', maxBuffer: 1024 * 1024 });
    expect(Buffer.compare(extracted.stdout, small)).toBe(0);
  }, 300_000);
});
