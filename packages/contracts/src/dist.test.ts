import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const pkgDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(pkgDir, 'dist');

/** Type-checks a consumer file against the built package only (as an integrator's project would). */
async function typecheck(source: string): Promise<{ errors: string[]; files: string[] }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tagdrop-consumer-'));
  const file = path.join(dir, 'consumer.ts');
  await fs.writeFile(file, source.replaceAll('@tagdrop/contracts', dist));
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: false,
    typeRoots: [path.join(pkgDir, '../../node_modules/@types')],
  });
  const errors = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === file)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  await fs.rm(dir, { recursive: true, force: true });
  return { errors, files: program.getSourceFiles().map((f) => f.fileName) };
}

beforeAll(async () => {
  await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: pkgDir });
}, 120_000);

describe('the published build (dist)', () => {
  it('is a package of ES modules and declarations, with its own package.json', async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(dist, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('@tagdrop/contracts');
    expect(Object.keys(pkg.exports)).toEqual([
      '.',
      './client',
      './upload',
      './session',
      './passkeys',
      './file-kinds',
      './strict-csp',
    ]);
    for (const entry of ['index', 'client', 'upload', 'session', 'passkeys', 'file-kinds', 'strict-csp']) {
      await fs.access(path.join(dist, `${entry}.js`));
      await fs.access(path.join(dist, `${entry}.d.ts`));
    }
  });

  it('declares the router without any server internals', async () => {
    const declarations = (await fs.readdir(dist, { recursive: true })).filter((f) => String(f).endsWith('.d.ts'));
    for (const name of declarations) {
      const text = await fs.readFile(path.join(dist, String(name)), 'utf8');
      expect(text, String(name)).not.toMatch(/apps\/api|ContextInner|AppDeps|kysely|ioredis|fastify|import\("/i);
    }
  });

  it('types an integrator’s calls: right ones compile, wrong ones do not', async () => {
    const ok = await typecheck(`
      import { createTagdropClient } from '@tagdrop/contracts/client';
      import { uploadFile } from '@tagdrop/contracts/upload';
      import { isErrorCode, type FileDto, type FileListItemDto } from '@tagdrop/contracts';
      export async function run() {
        const client = createTagdropClient({ url: 'http://localhost:3000', token: 't' });
        const page = await client.files.list.query({ hashtag: 'cats', limit: 10 });
        const first: FileListItemDto | undefined = page.results[0];
        const next: string | null = page.next;
        const file = await uploadFile(client, new Blob(['x']), { hashtags: ['a'], is_public: true });
        const clicks: number = file.stats.clicks;
        const detail: FileDto = await client.files.get.query({ id: file.id });
        const history: { date: string; clicks: number }[] = detail.stats.daily;
        const bulk: { updated: number } = await client.files.bulk.mutate({
          ids: [file.id],
          action: 'add_hashtags',
          hashtags: ['trip'],
        });
        try {
          await client.files.get.query({ id: file.id });
        } catch (err) {
          const code = (err as { data?: { code?: string } }).data?.code;
          if (isErrorCode(code)) return code;
        }
        return [first, next, clicks, history, bulk];
      }
    `);
    expect(ok.errors).toEqual([]);
    expect(ok.files.some((f) => f.includes('/apps/api/'))).toBe(false);

    const wrong = await typecheck(`
      import { createTagdropClient } from '@tagdrop/contracts/client';
      export async function run() {
        const client = createTagdropClient({ url: 'http://localhost:3000' });
        await client.files.get.query({ id: 42 });
        await client.files.nope.query();
        const me = await client.auth.me.query();
        const n: number = me.email;
        const page = await client.files.list.query({});
        const daily = page.results[0]?.stats.daily; // list items never carry daily
        await client.files.bulk.mutate({ ids: ['x'], action: 'set_expiry' }); // set_expiry needs expires_at
        return [n, daily];
      }
    `);
    expect(wrong.errors.length).toBeGreaterThanOrEqual(5);
    expect(wrong.errors.some((e) => e.includes('expires_at'))).toBe(true);
    expect(wrong.errors.some((e) => e.includes("'daily'"))).toBe(true);
  });
});
