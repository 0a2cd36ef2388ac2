import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from './client.js';
import { migrateToLatest } from './migrate.js';

export interface TestDatabase {
  /** Connection string of the fresh database. */
  url: string;
  db: Db;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

const adminUrl = () => process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A fresh, migrated database on the local PostgreSQL for one test file.
 * Each call gets its own name, so parallel runs never collide.
 */
export async function createTestDatabase(prefix = 'tagdrop_test'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const db = createDb({ connectionString: url.toString(), max: 5 });
  await migrateToLatest(db);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.destroy();
      const client = new pg.Client({ connectionString: adminUrl() });
      await client.connect();
      try {
        // Give closing pools a moment to leave, then force out anything still connected.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
