import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { migrations } from '../migrations/index.js';

// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
export function createMigrator(db: Kysely<any>): Migrator {
  // Engineers work in parallel with their own HHMM ranges: a migration may land after one that sorts later.
  return new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
}

/** Applies every pending migration; throws with the failing migration's name on error. */
// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const result = await createMigrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const reason = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`, { cause: result.error });
  }
  return result;
}
