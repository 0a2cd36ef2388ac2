/** Builds the admin SPA once before the e2e suite (the API serves apps/admin/dist), so `npm test` works alone. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export default async function setup() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  await build({ root, configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn' });
}
