import { PostgresBackend } from '@agendajs/postgres-backend';
import { createPool } from '@tagdrop/db';
import { Agenda, exponential } from 'agenda';
import pg from 'pg';
import { isOutage } from '../errors.js';
import type { JobDeps, JobSpec } from './types.js';

export interface Jobs {
  /** The Agenda instance, connected (created on first call). */
  ready(): Promise<Agenda>;
  /** The Agenda instance once ready() (or start/enqueue) has resolved; throws before. */
  readonly agenda: Agenda;
  /** Queues a one-off job to run as soon as a worker is free. */
  enqueue(name: string, data: unknown): Promise<void>;
  /** Starts processing (workers only); schedules the recurring jobs. */
  start(): Promise<void>;
  /** Runs one job right now in this process and waits for it (CLI, tests). */
  runNow(name: string, data?: unknown): Promise<void>;
  /** Stops processing; running jobs may finish for up to waitMs (default 10 s), then are unlocked for others. */
  stop(options?: { waitMs?: number }): Promise<void>;
}

export interface JobsOptions {
  connectionString: string;
  /** Size of the job runner's own pool (default 5; one connection is held for LISTEN). */
  poolMax?: number;
  processEvery: string;
  name?: string;
  specs: JobSpec[];
}

/** Serialises Agenda's schema set-up (CREATE OR REPLACE FUNCTION/TRIGGER) across processes starting together. */
const AGENDA_SCHEMA_LOCK = 7_310_104_225;

export function createJobs(options: JobsOptions, deps: JobDeps): Jobs {
  const byName = new Map(options.specs.map((s) => [s.name, s]));
  // Agenda (and its connection pool) is created on first use: a CLI that only runs a job never connects it.
  let instance: Promise<ReturnType<typeof build>> | undefined;
  let closed = false;
  const ready = async () => {
    // After stop() nothing may build a new Agenda (and a pool nobody closes).
    if (closed) throw new Error('jobs are stopped');
    instance ??= (async () => {
      const lock = new pg.Client({ connectionString: options.connectionString });
      // A lost connection rejects the pending query; without a listener its 'error' event would end the process.
      lock.on('error', (err) => deps.log.warn({ err: err.message }, 'agenda schema lock connection lost'));
      await lock.connect();
      let built: ReturnType<typeof build> | undefined;
      try {
        await lock.query('select pg_advisory_lock($1)', [AGENDA_SCHEMA_LOCK]);
        built = build(options, deps);
        await built.agenda.ready;
        current = built.agenda;
        return built;
      } catch (err) {
        await built?.pool.end().catch(() => {});
        throw err;
      } finally {
        await lock.query('select pg_advisory_unlock($1)', [AGENDA_SCHEMA_LOCK]).catch(() => {});
        await lock.end().catch(() => {});
      }
    })();
    // A failure (the database was away) is not kept: the next call tries again.
    const pending = instance;
    return (
      await pending.catch((err: unknown) => {
        if (instance === pending) instance = undefined;
        throw err;
      })
    ).agenda;
  };

  let started = false;
  let current: Agenda | undefined;
  return {
    ready,
    get agenda() {
      if (!current) throw new Error('jobs not ready: await jobs.ready() first');
      return current;
    },
    async enqueue(name, data) {
      const spec = byName.get(name);
      if (!spec) throw new Error(`unknown job ${name}`);
      await (await ready()).now(name, spec.schema.parse(data));
    },
    async start() {
      const agenda = await ready();
      await agenda.start();
      started = true;
      for (const spec of options.specs) {
        const interval = spec.every?.(deps.config);
        if (interval) await agenda.every(interval, spec.name, {}, { skipImmediate: false });
      }
    },
    async runNow(name, data = {}) {
      const spec = byName.get(name);
      if (!spec) throw new Error(`unknown job ${name}; known: ${[...byName.keys()].join(', ')}`);
      const payload = spec.schema.parse(data);
      await spec.handler(payload, deps, { attrs: { name, data: payload }, touch: async () => {} } as never);
    },
    async stop({ waitMs = 10_000 } = {}) {
      closed = true;
      if (!instance) return;
      const built = await instance.catch(() => undefined);
      instance = undefined;
      current = undefined;
      if (!built) return;
      const { agenda, pool } = built;
      try {
        if (!started) return; // Agenda.stop() does nothing when it never started processing.
        started = false;
        // Let running jobs finish (up to waitMs), then stop: stop() unlocks anything still locked for other
        // workers. (Agenda's own drain() can wait out its whole timeout when a job ends just as it starts.)
        const deadline = Date.now() + waitMs;
        while (Date.now() < deadline) {
          const stats = await agenda.getRunningStats().catch(() => undefined);
          if (!stats || Number(stats.runningJobs) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await agenda.stop();
      } finally {
        // The pool is ours (the backend never closes a pool it was given), also when stop() failed half-way.
        await pool.end();
      }
    },
  };
}

/**
 * Agenda on @agendajs/postgres-backend, made to survive database restarts. Read in its source (3.0.6): given a
 * connection string, PostgresJobRepository creates its own `pg.Pool` with no 'error' listener, so an idle
 * connection terminated by the server (57P01 on `pg_ctl restart`) ends the process; and
 * PostgresNotificationChannel (an EventEmitter, reachable as `backend.notificationChannel`) holds a LISTEN
 * client from that pool, and on its loss re-emits the error and reconnects (every 100 ms, forever: connect()
 * resets the attempt count) — an 'error' event nobody listens to ends the process too. So the backend gets a
 * pool of ours (option `pool`, public API) that logs and drops broken idle connections, and the channel gets an
 * 'error' listener; its own reconnect loop then restores LISTEN once the database is back. Agenda's job
 * processor catches its query errors and polls again on the next round.
 */
function build(options: JobsOptions, deps: JobDeps) {
  const quiet = throttledWarn(deps, 10_000);
  const pool = createPool({
    connectionString: options.connectionString,
    max: options.poolMax ?? 5,
    applicationName: 'tagdrop-jobs',
    onIdleError: (err) => quiet('idle job-runner connection lost', err),
  });
  const backend = new PostgresBackend({ pool, ensureSchema: true });
  backend.notificationChannel?.on('error', (err: Error) => quiet('job notifications (LISTEN) interrupted', err));
  const agenda = new Agenda({
    backend,
    name: options.name,
    processEvery: options.processEvery,
    defaultLockLifetime: 10 * 60_000,
  });
  agenda.on('error', (err) =>
    isOutage(err)
      ? quiet('job runner: database unavailable', err)
      : deps.log.error({ err: err.message }, 'agenda error'),
  );
  agenda.on('fail', (err, job) => {
    if (typeof err === 'string') return; // remote notification, logged by its own process
    deps.log.warn({ job: job.attrs.name, err: err.message }, 'job failed');
  });
  for (const spec of options.specs) {
    agenda.define(
      spec.name,
      async (job) => {
        const data = spec.schema.parse(job.attrs.data ?? {});
        await spec.handler(data, deps, job);
      },
      {
        concurrency: spec.options?.concurrency,
        lockLifetime: spec.options?.lockLifetime,
        removeOnComplete: spec.options?.removeOnComplete,
        backoff: spec.options?.retries
          ? exponential({ delay: spec.options.retries.delayMs, maxRetries: spec.options.retries.max, jitter: 0.2 })
          : undefined,
      },
    );
  }
  return { agenda, backend, pool };
}

/** A warning at most every `ms` per message while the database is away, with how many were held back. */
function throttledWarn(deps: JobDeps, ms: number) {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (message: string, err: Error) => {
    const now = Date.now();
    const seen = last.get(message);
    if (seen && now - seen.at < ms) {
      seen.suppressed++;
      return;
    }
    deps.log.warn({ err: err.message, suppressed: seen?.suppressed ?? 0 }, message);
    last.set(message, { at: now, suppressed: 0 });
  };
}
