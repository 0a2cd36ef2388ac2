import { PostgresBackend } from '@agendajs/postgres-backend';
import { Agenda, exponential } from 'agenda';
import pg from 'pg';
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
  stop(): Promise<void>;
}

export interface JobsOptions {
  connectionString: string;
  processEvery: string;
  name?: string;
  specs: JobSpec[];
}

/** Serialises Agenda's schema set-up (CREATE OR REPLACE FUNCTION/TRIGGER) across processes starting together. */
const AGENDA_SCHEMA_LOCK = 7_310_104_225;

export function createJobs(options: JobsOptions, deps: JobDeps): Jobs {
  const byName = new Map(options.specs.map((s) => [s.name, s]));
  // Agenda (and its connection pool) is created on first use: a CLI that only runs a job never connects it.
  let instance: Promise<{ agenda: Agenda; backend: PostgresBackend }> | undefined;
  const ready = async () => {
    instance ??= (async () => {
      const lock = new pg.Client({ connectionString: options.connectionString });
      await lock.connect();
      try {
        await lock.query('select pg_advisory_lock($1)', [AGENDA_SCHEMA_LOCK]);
        const built = build(options, deps);
        await built.agenda.ready;
        current = built.agenda;
        return built;
      } finally {
        await lock.query('select pg_advisory_unlock($1)', [AGENDA_SCHEMA_LOCK]).catch(() => {});
        await lock.end();
      }
    })();
    return (await instance).agenda;
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
    async stop() {
      if (!instance) return;
      const { agenda, backend } = await instance;
      instance = undefined;
      current = undefined;
      if (!started) {
        // Agenda.stop() does nothing (and keeps its pool open) when it never started processing.
        await backend.disconnect();
        return;
      }
      started = false;
      // Let running jobs finish (up to 10 s), then stop: stop() unlocks anything still locked for other workers.
      // (Agenda's own drain() can wait out its whole timeout when a job ends just as it starts.)
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const stats = await agenda.getRunningStats().catch(() => undefined);
        if (!stats || Number(stats.runningJobs) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await agenda.stop();
    },
  };
}

function build(options: JobsOptions, deps: JobDeps) {
  const backend = new PostgresBackend({
    connectionString: options.connectionString,
    ensureSchema: true,
  });
  const agenda = new Agenda({
    backend,
    name: options.name,
    processEvery: options.processEvery,
    defaultLockLifetime: 10 * 60_000,
  });
  agenda.on('error', (err) => deps.log.error({ err: err.message }, 'agenda error'));
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
  return { agenda, backend };
}
