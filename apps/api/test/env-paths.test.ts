/** Where local data lands: relative DATA_DIR/STORAGE_DIR are resolved where the person ran npm (the README's ./.data). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/env.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('DATA_DIR', () => {
  it('defaults to .data in the directory npm was run from, even though npm runs the script in apps/api', () => {
    const printed = execFileSync(
      'npm',
      [
        'exec',
        '-w',
        '@tagdrop/api',
        '-c',
        'node --import tsx -e "import(\'./src/env.ts\').then((m) => console.log(m.loadConfig().dataDir))"',
      ],
      { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } },
    );
    expect(printed.trim().split('\n').pop()).toBe(path.join(repoRoot, '.data'));
  });

  it('resolves relative DATA_DIR and STORAGE_DIR against INIT_CWD; absolute paths stay', () => {
    const config = loadConfig({ INIT_CWD: '/srv/tagdrop', DATA_DIR: 'state', STORAGE_DIR: 'blobs' });
    expect(config.dataDir).toBe('/srv/tagdrop/state');
    expect(config.storageDir).toBe('/srv/tagdrop/blobs');
    expect(loadConfig({ INIT_CWD: '/srv/tagdrop' }).storageDir).toBe('/srv/tagdrop/.data/files');
    expect(loadConfig({ INIT_CWD: '/srv/tagdrop', DATA_DIR: '/var/lib/tagdrop' }).dataDir).toBe('/var/lib/tagdrop');
  });
});
