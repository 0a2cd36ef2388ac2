import type { Migration } from 'kysely';
import * as m2026_11_24_2100_auth from './2026_11_24_2100_auth.js';
import * as m2026_11_24_2130_files from './2026_11_24_2130_files.js';
import * as m2026_11_24_2200_click_stats from './2026_11_24_2200_click_stats.js';
import * as m2026_11_24_2230_finished_uploads from './2026_11_24_2230_finished_uploads.js';

/**
 * Every migration, by its dated name. Listed statically (not read from the folder at run time) so the
 * same code works under tsx, vitest and a bundler. Add new ones at the end.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_24_2100_auth': m2026_11_24_2100_auth,
  '2026_11_24_2130_files': m2026_11_24_2130_files,
  '2026_11_24_2200_click_stats': m2026_11_24_2200_click_stats,
  '2026_11_24_2230_finished_uploads': m2026_11_24_2230_finished_uploads,
};
