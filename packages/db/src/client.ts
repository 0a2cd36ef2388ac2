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
  /** How long a query may wait for a connection (a server that does not answer), default 10 s. */
  connectionTimeoutMillis?: number;
}

export type Db = Kysely<Database>;

export function createPool(options: CreateDbOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'tagdrop',
    // Never wait forever for a server that is gone without a word (the caller gets an error, the API a 503);
    // TCP keepalive finds dead idle connections.
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    keepAlive: true,
  });
  // An idle client losing its connection (server restart, admin command) must not crash the process;
  // the pool replaces it on the next checkout.
  pool.on('error', (err) => options.onIdleError?.(err));
  // A checked-out client has no listener of the pool's: when its connection ends between queries (or just
  // after one failed, before it is released) the 'error' event would end the process. Its query already
  // rejects with the error, and the pool drops the broken client on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export function createDb(options: CreateDbOptions | { pool: pg.Pool }): Db {
  const pool = 'pool' in options ? options.pool : createPool(options);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
