import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Config } from '../env.js';
import type { Logger } from './logger.js';
import { keepTurnsUntilReady } from './pglite-turns.js';

export interface DatabaseEndpoint {
  url: string;
  embedded: boolean;
  /** Pool size that suits the backend (the embedded server serialises queries). */
  poolMax: number;
  close(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise an embedded PostgreSQL (PGlite, WASM) kept under DATA_DIR/pglite and
 * served to `pg` on a loopback port by @electric-sql/pglite-socket. For development and trials only.
 */
export async function resolveDatabase(config: Config, log: Logger): Promise<DatabaseEndpoint> {
  if (config.DATABASE_URL) {
    return { url: config.DATABASE_URL, embedded: false, poolMax: 10, close: async () => {} };
  }
  const [{ PGlite }, { PGLiteSocketServer }, { pg_trgm }, { btree_gin }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
    // Search uses trigram indexes, the scoped ones with the owner beside the trigrams (the migrations run
    // `create extension pg_trgm` and `btree_gin`): PGlite ships both extensions.
    import('@electric-sql/pglite/contrib/pg_trgm'),
    import('@electric-sql/pglite/contrib/btree_gin'),
  ]);
  const dir = path.join(config.dataDir, 'pglite');
  await fs.mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir, { extensions: { pg_trgm, btree_gin } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 20 });
  keepTurnsUntilReady(server);
  await server.start();
  const conn = server.getServerConn(); // "127.0.0.1:PORT"
  log.info({ dir }, 'embedded PostgreSQL (PGlite) started');
  return {
    url: `postgres://postgres@${conn}/postgres?sslmode=disable`,
    embedded: true,
    poolMax: 5,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
