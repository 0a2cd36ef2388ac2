/** Reading ZIP archives in tests with a real reader (yauzl: CRCs checked as entries are read). */
import { createHash } from 'node:crypto';
import yauzl from 'yauzl';

export interface ZipEntry {
  name: string;
  size: number;
  sha256: string;
  /** 0: stored, 8: deflated. */
  method: number;
}

/** Every entry of an archive, in archive order. */
export function readZip(buffer: Buffer): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true, strictFileNames: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const entries: ZipEntry[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e);
          const hash = createHash('sha256');
          stream.on('data', (c: Buffer) => hash.update(c));
          stream.on('error', reject);
          stream.on('end', () => {
            entries.push({
              name: entry.fileName,
              size: entry.uncompressedSize,
              sha256: hash.digest('hex'),
              method: entry.compressionMethod,
            });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}
