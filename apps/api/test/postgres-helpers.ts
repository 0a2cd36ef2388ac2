/**
 * A test's own PostgreSQL cluster (initdb + pg_ctl of the machine's PostgreSQL 15, run as the postgres user when
 * the tests run as root), on a free port with its data under /tmp, so a test can restart or stop it without
 * touching the shared server. Stopped with pg_ctl (the postmaster's PID) and removed, also when a test fails.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './process-helpers.js';

const run = promisify(execFile);

/** PG_BIN_DIR, else the newest /usr/lib/postgresql/<version>/bin (15 on the project's machines). */
function binDir(): string {
  if (process.env.PG_BIN_DIR) return process.env.PG_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error(`no PostgreSQL server binaries under ${root} (set PG_BIN_DIR)`);
  return path.join(root, versions[0], 'bin');
}

export interface OwnPostgres {
  port: number;
  /** Connection string of its `postgres` database (user postgres, trust authentication). */
  url: string;
  /** `pg_ctl restart -m fast`: every session is terminated (57P01), the server is back when this resolves. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its files. */
  destroy(): Promise<void>;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const asRoot = userInfo().uid === 0;
  const dir = await mkdtemp('/tmp/tagdrop-pg-');
  const data = path.join(dir, 'data');
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const bin = binDir();
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args]) : run(path.join(bin, tool), args);
  const port = await freePort();
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const ctl = (...args: string[]) => pg('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '30', ...args]);
  await ctl('-o', options, 'start');
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await ctl('-m', 'fast', '-o', options, 'restart');
    },
    async stop() {
      await ctl('-m', 'fast', 'stop');
    },
    async start() {
      await ctl('-o', options, 'start');
    },
    async destroy() {
      await ctl('-m', 'immediate', 'stop').catch(() => {}); // not running: nothing to stop
      await rm(dir, { recursive: true, force: true });
    },
  };
}
