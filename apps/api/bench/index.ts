/**
 * `npm run bench` (all benches) or `npm run bench -- clicks expiry` (some): runs every bench module of this
 * folder, in name order. A module is `<name>.ts` exporting an async function whose name starts with
 * `bench` (e.g. `benchClicks`); it prints its own figures, ratios as plain lines.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = (await fs.readdir(here))
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3))
  // `scale` (a million files, several minutes) runs only when named: `npm run bench -- scale`.
  .filter((n) => (wanted.length === 0 ? n !== 'scale' : wanted.includes(n)))
  .sort();
if (wanted.length > 0) {
  const unknown = wanted.filter((w) => !names.includes(w));
  if (unknown.length > 0) throw new Error(`unknown bench: ${unknown.join(', ')}`);
}

let failed = false;
for (const name of names) {
  const mod = (await import(`./${name}.ts`)) as Record<string, unknown>;
  const entry = Object.entries(mod).find(([key, value]) => key.startsWith('bench') && typeof value === 'function');
  if (!entry) continue;
  console.log(`\n== ${name}`);
  const started = Date.now();
  try {
    await (entry[1] as () => Promise<unknown>)();
  } catch (err) {
    failed = true;
    console.error(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
process.exit(failed ? 1 : 0);
