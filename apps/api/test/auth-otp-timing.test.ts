/**
 * Account enumeration by timing (issue 8 item 4): /api/otp-login/ takes the same path for known, unknown and blocked
 * people, with sign-up open and closed. Medians of 50 requests per branch, interleaved in a random order each round
 * (so drift and background work fall on every branch alike), after a warm-up, must differ by less than 0.5 ms,
 * each request compared with its own round (paired), so that load from other tests slowing a round cancels out.
 * This is the one timing comparison the issue asks for (see MAX_PASSES for a shared machine).
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordQueries, stopWhenIdle } from './auth-helpers.js';
import { startTestApp, type TestApp } from './harness.js';

const ROUNDS = 50;
const WARMUP = 15;
const BRANCHES = ['known', 'unknown', 'blocked'] as const;
type Branch = (typeof BRANCHES)[number];

let open: TestApp;
let closed: TestApp;

beforeAll(async () => {
  // A generous per-IP limit: every request here comes from 127.0.0.1. Each address is used once. The jobs are
  // queued but not run in this process, so delivery (which differs per branch, later) does not add noise.
  const env = { OTP_IP_LIMIT: '100000', JOBS_IN_PROCESS: 'false' };
  [open, closed] = await Promise.all([startTestApp(env), startTestApp({ ...env, ALLOW_SIGNUP: 'false' })]);
  await Promise.all([open.deps.jobs.ready(), closed.deps.jobs.ready()]);
});
afterAll(async () => {
  await Promise.all([open, closed].map(stopWhenIdle));
});

async function seed(app: TestApp, tag: string): Promise<Record<Branch, string[]>> {
  const n = ROUNDS + WARMUP;
  const list = (branch: Branch) => Array.from({ length: n }, (_, i) => `${tag}-${branch}-${i}@example.com`);
  const addresses = { known: list('known'), unknown: list('unknown'), blocked: list('blocked') };
  await app.deps.db
    .insertInto('users')
    .values([
      ...addresses.known.map((email) => ({ email })),
      ...addresses.blocked.map((email) => ({ email, is_active: false })),
    ])
    .execute();
  return addresses;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

function shuffled<T>(xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Per branch, the time of each round's request (index = round, across passes). */
type Samples = Record<Branch, number[]>;

/** One pass: a warm-up, then ROUNDS rounds of one request per branch in a random order; adds to `samples`. */
async function timeBranches(app: TestApp, tag: string, samples: Samples): Promise<void> {
  const addresses = await seed(app, tag);
  const url = `${app.url}/api/otp-login/`;
  const once = async (email: string) => {
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    await res.arrayBuffer();
    const ms = performance.now() - started;
    expect(res.status).toBe(200);
    return ms;
  };
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    for (const branch of shuffled(BRANCHES)) {
      const ms = await once(addresses[branch][round] as string);
      if (round >= WARMUP) samples[branch].push(ms);
    }
  }
}

const queuedJobs = async (app: TestApp) => {
  const { rows } = await sql<{ n: string }>`select count(*) as n from agenda_jobs where name = 'send-otp'`.execute(
    app.deps.db,
  );
  return Number(rows[0]?.n);
};

describe('otp-login takes the same path for everyone', () => {
  it.each([
    ['ALLOW_SIGNUP=true', () => open],
    ['ALLOW_SIGNUP=false', () => closed],
  ])('the same SQL statements and one queued job per branch (%s)', async (label, app) => {
    const a = app();
    const addresses = await seed(a, `path-${label.endsWith('true') ? 'open' : 'closed'}`);
    const paths: Record<string, string[]> = {};
    for (const branch of BRANCHES) {
      const before = await queuedJobs(a);
      const recorder = recordQueries(a);
      try {
        const res = await a.api('POST', '/api/otp-login/', { body: { email: addresses[branch][0] } });
        expect(res.status).toBe(200);
      } finally {
        recorder.stop();
      }
      paths[branch] = recorder.sql;
      expect(await queuedJobs(a)).toBe(before + 1);
    }
    expect(paths.known?.length).toBeGreaterThan(0);
    expect(paths.unknown).toEqual(paths.known);
    expect(paths.blocked).toEqual(paths.known);
  });
});

/**
 * Passes at most. The first pass gives the issue's 50 requests per branch; on a shared machine its medians can be
 * drowned in noise, so further passes add 50 more per branch to the same samples until the medians settle. More
 * samples only sharpen the medians: a real difference (3-4 ms before the fix) stays and fails.
 */
const MAX_PASSES = 10;

describe('otp-login timing', () => {
  it.each([
    ['ALLOW_SIGNUP=true', () => open],
    ['ALLOW_SIGNUP=false', () => closed],
  ])(
    'known, unknown and blocked people get their answer in the same time (%s)',
    async (label, app) => {
      const samples: Samples = { known: [], unknown: [], blocked: [] };
      let spread = Number.POSITIVE_INFINITY;
      for (let pass = 1; pass <= MAX_PASSES && spread >= 0.5; pass++) {
        await timeBranches(app(), `${label.endsWith('true') ? 'open' : 'closed'}-${pass}`, samples);
        const medians = Object.fromEntries(BRANCHES.map((b) => [b, median(samples[b])])) as Record<Branch, number>;
        // Paired: each request against the mean of its own round (the three branches back to back), so load that
        // slows a whole round (other tests on the machine) cancels out; a branch slower by d stays d apart.
        const rounds = samples.known.map(
          (_, r) => BRANCHES.reduce((sum, b) => sum + (samples[b][r] as number), 0) / BRANCHES.length,
        );
        const paired = Object.fromEntries(
          BRANCHES.map((b) => [b, median(samples[b].map((t, r) => t - (rounds[r] as number)))]),
        ) as Record<Branch, number>;
        spread = Math.max(...Object.values(paired)) - Math.min(...Object.values(paired));
        const raw = Math.max(...Object.values(medians)) - Math.min(...Object.values(medians));
        console.log(
          `otp-login medians (${label}, ${samples.known.length} requests per branch): ` +
            `${BRANCHES.map((b) => `${b} ${medians[b].toFixed(2)} ms`).join(', ')}; spread ${raw.toFixed(2)} ms; ` +
            `paired (against each round): ${BRANCHES.map((b) => `${b} ${paired[b].toFixed(2)}`).join(', ')}, spread ${spread.toFixed(2)} ms`,
        );
      }
      expect(spread).toBeLessThan(0.5);
    },
    300_000,
  );
});
