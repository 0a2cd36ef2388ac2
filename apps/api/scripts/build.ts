/**
 * `npm run build -w @tagdrop/api`: the API's entry points compiled to plain JavaScript in dist/, for
 * `node dist/main.js` (the runtime image) without tsx. esbuild bundles the API's own sources and the workspace
 * packages it consumes as TypeScript (@tagdrop/db with its statically listed migrations, @tagdrop/contracts);
 * every other package stays an import from node_modules (native addons, wasm and package assets keep working),
 * so the runtime needs the production dependencies only. Code shared by the entries lives once in dist/chunks/.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const apiDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(apiDir, 'dist');

/** Entry points: dist/<name>.js. */
export const entries = {
  main: 'src/main.ts',
  worker: 'src/worker.ts',
  'cli/migrate': 'src/cli/migrate.ts',
  'cli/admin-create': 'src/cli/admin-create.ts',
  'cli/jobs-run': 'src/cli/jobs-run.ts',
};

/** Bare imports stay external, except the workspace packages (TypeScript sources, bundled). */
const nodeModulesExternal: Plugin = {
  name: 'node-modules-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@tagdrop/') ? undefined : { path: args.path, external: true },
    );
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: apiDir,
  entryPoints: entries,
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
  plugins: [nodeModulesExternal],
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`dist/: ${Object.keys(entries).length} entries, ${(bytes / 1024).toFixed(0)} KiB (with source maps)`);
