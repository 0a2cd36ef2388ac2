import type { Db } from '@tagdrop/db';
import type { Job } from 'agenda';
import type { z } from 'zod';
import type { Config } from '../env.js';
import type { Logger } from '../infra/logger.js';
import type { Mailer } from '../infra/mail.js';
import type { RedisHandle } from '../infra/redis.js';
import type { Keys } from '../infra/secrets.js';
import type { SmsProvider } from '../infra/sms/types.js';
import type { StatsService } from '../modules/stats/stats.types.js';
import type { Storage } from '../storage/index.js';

/** What every job handler may use. */
export interface JobDeps {
  config: Config;
  db: Db;
  redis: RedisHandle;
  log: Logger;
  keys: Keys;
  mailer: Mailer;
  sms: SmsProvider;
  storage: Storage;
  stats: StatsService;
  /** Origin of absolute links (PUBLIC_URL, or the listening address in development), e.g. sign-in links. */
  baseUrl: string;
}

export interface JobSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  /** Validates the payload both when enqueued and when run. */
  schema: S;
  options?: {
    concurrency?: number;
    lockLifetime?: number;
    /** Retries with exponential backoff: how many, and the first delay. */
    retries?: { max: number; delayMs: number };
    removeOnComplete?: boolean;
  };
  /** Set for recurring jobs: an Agenda interval ('1 minute') scheduled once across all processes. */
  every?: (config: Config) => string | undefined;
  handler(data: z.infer<S>, deps: JobDeps, job: Job<z.infer<S>>): Promise<void>;
}

export const defineJob = <S extends z.ZodType>(spec: JobSpec<S>) => spec;
