/**
 * The README's configuration table is the operator's reference: it lists every variable env.ts reads, and
 * nothing that env.ts does not read.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { ENV_NAMES } from '../src/env.js';

const readme = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../README.md'), 'utf8');

it('documents every setting of env.ts in the configuration table, and only those', () => {
  const section = readme.split('\n## Configuration\n')[1]?.split('\n## ')[0] ?? '';
  const documented = [...section.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]);
  expect(documented.length).toBeGreaterThan(0);
  expect(new Set(documented).size, 'a variable is listed twice').toBe(documented.length);
  expect([...documented].sort()).toEqual([...ENV_NAMES].sort());
});
