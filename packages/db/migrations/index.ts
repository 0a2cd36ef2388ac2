import type { Migration } from 'kysely';
import * as m2026_11_24_2100_auth from './2026_11_24_2100_auth.js';
import * as m2026_11_24_2130_files from './2026_11_24_2130_files.js';
import * as m2026_11_24_2200_click_stats from './2026_11_24_2200_click_stats.js';
import * as m2026_11_24_2230_finished_uploads from './2026_11_24_2230_finished_uploads.js';
import * as m2026_12_03_1100_tus_concat from './2026_12_03_1100_tus_concat.js';
import * as m2026_12_03_1200_passkeys from './2026_12_03_1200_passkeys.js';
import * as m2026_12_03_1300_catalogue_scale from './2026_12_03_1300_catalogue_scale.js';
import * as m2026_12_03_1310_expiry_at_scale from './2026_12_03_1310_expiry_at_scale.js';
import * as m2026_12_03_1320_expiring_links from './2026_12_03_1320_expiring_links.js';
import * as m2026_12_03_1500_link_controls from './2026_12_03_1500_link_controls.js';
import * as m2026_12_03_1600_thumbnails from './2026_12_03_1600_thumbnails.js';
import * as m2026_12_03_1700_consumed_partials from './2026_12_03_1700_consumed_partials.js';
import * as m2026_12_07_1900_thumbnail_state from './2026_12_07_1900_thumbnail_state.js';
import * as m2026_12_07_2000_scoped_search from './2026_12_07_2000_scoped_search.js';
import * as m2026_12_08_1100_partials_follow_final from './2026_12_08_1100_partials_follow_final.js';
import * as m2026_12_08_1200_otp_verified from './2026_12_08_1200_otp_verified.js';

/**
 * Every migration, by its dated name. Listed statically (not read from the folder at run time) so the
 * same code works under tsx, vitest and a bundler. Add new ones at the end.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_24_2100_auth': m2026_11_24_2100_auth,
  '2026_11_24_2130_files': m2026_11_24_2130_files,
  '2026_11_24_2200_click_stats': m2026_11_24_2200_click_stats,
  '2026_11_24_2230_finished_uploads': m2026_11_24_2230_finished_uploads,
  '2026_12_03_1100_tus_concat': m2026_12_03_1100_tus_concat,
  '2026_12_03_1200_passkeys': m2026_12_03_1200_passkeys,
  '2026_12_03_1300_catalogue_scale': m2026_12_03_1300_catalogue_scale,
  '2026_12_03_1310_expiry_at_scale': m2026_12_03_1310_expiry_at_scale,
  '2026_12_03_1320_expiring_links': m2026_12_03_1320_expiring_links,
  '2026_12_03_1500_link_controls': m2026_12_03_1500_link_controls,
  '2026_12_03_1600_thumbnails': m2026_12_03_1600_thumbnails,
  '2026_12_03_1700_consumed_partials': m2026_12_03_1700_consumed_partials,
  '2026_12_07_1900_thumbnail_state': m2026_12_07_1900_thumbnail_state,
  '2026_12_07_2000_scoped_search': m2026_12_07_2000_scoped_search,
  '2026_12_08_1100_partials_follow_final': m2026_12_08_1100_partials_follow_final,
  '2026_12_08_1200_otp_verified': m2026_12_08_1200_otp_verified,
};
