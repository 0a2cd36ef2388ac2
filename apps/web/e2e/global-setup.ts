/** Builds the SPA once before the e2e suite, so `npm test` alone works. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export default async function setup() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  await build({ root, configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
}
