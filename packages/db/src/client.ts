import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

// Return int8/bigint columns (counts, sums, bigserial ids) as strings unless asked otherwise,
// and numeric as-is; timestamps become Date objects (pg's default).
export interface CreateDbOptions {
  connectionString: string;
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  onIdleError?: (err: Error) => void;
}

export type Db = Kysely<Database>;

export function createPool(options: CreateDbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tagdrop',
  });
  // An idle client losing its connection (server restart, admin command) must not crash the process;
  // the pool replaces it on the next checkout.
  pool.on('error', (err) => options.onIdleError?.(err));
  return pool;
}

export function createDb(options: CreateDbOptions | { pool: pg.Pool }): Db {
  const pool = 'pool' in options ? options.pool : createPool(options);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
