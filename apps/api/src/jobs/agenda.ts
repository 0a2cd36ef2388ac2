import { PostgresBackend } from '@agendajs/postgres-backend';
import { Agenda, exponential } from 'agenda';
import type { JobDeps, JobSpec } from './types.js';

export interface Jobs {
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

export function createJobs(options: JobsOptions, deps: JobDeps): Jobs {
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

  const byName = new Map(options.specs.map((s) => [s.name, s]));
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

  let started = false;
  return {
    agenda,
    async enqueue(name, data) {
      const spec = byName.get(name);
      if (!spec) throw new Error(`unknown job ${name}`);
      await agenda.ready;
      await agenda.now(name, spec.schema.parse(data));
    },
    async start() {
      await agenda.ready;
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
      if (started) await agenda.drain(10_000);
      else await agenda.stop();
    },
  };
}
