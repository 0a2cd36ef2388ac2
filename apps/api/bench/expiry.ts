/**
 * The expiry sweep at scale: 100,000 expired files (rows inserted in bulk with hashtag links, one small
 * object each) removed by delete-expired-files run through Agenda; timed until every row and object is
 * gone (goal: within one minute). Meanwhile another user lists files; list latency during the sweep vs
 * before it is the ratio (goal <= 2).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { startTestApp } from '../test/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * q))] as number;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function pool<T>(items: T[], concurrency: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

export async function benchExpiry(options: { files?: number; objects?: boolean } = {}) {
  const count = options.files ?? Number(process.env.BENCH_EXPIRY_FILES ?? 100_000);
  const objects = options.objects ?? process.env.BENCH_EXPIRY_OBJECTS !== 'false';
  const app = await startTestApp({
    LOG_LEVEL: 'warn',
    // Scheduled far away: the bench triggers the sweep itself, through Agenda, at a known moment.
    EXPIRY_INTERVAL: '1 hour',
    STATS_FLUSH_INTERVAL: '1 hour',
  });
  try {
    const db = app.deps.db;
    const lister = await app.login('bench-lister@example.com');
    const owner = await db
      .insertInto('users')
      .values({ email: 'bench-expired@example.com' })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Wait for the start-up runs of the recurring jobs to finish, so the sweep below is the only one.
    await sleep(1_500);

    // The lister's own live files (what the list requests page through); half of them public.
    await sql`
      insert into files (id, owner_id, name, size, mime_type, storage_key, is_public, share_token, created_at)
      select id, ${lister.user.id}::uuid, 'live-' || n || '.txt', 16, 'text/plain', id::text, n % 2 = 0,
             md5(id::text || random()::text) || md5(random()::text), now() - n * interval '1 second'
      from (select gen_random_uuid() as id, n from generate_series(1, 1000) n) s`.execute(db);

    // 100,000 expired files in bulk, each linked to one of 20 hashtags.
    const setupStarted = Date.now();
    await sql`insert into hashtags (name) select 'bench' || n from generate_series(1, 20) n on conflict do nothing`.execute(
      db,
    );
    await sql`
      insert into files (id, owner_id, name, size, mime_type, storage_key, is_public, share_token, expires_at)
      select id, ${owner.id}::uuid, 'expired-' || n || '.bin', 16, 'application/octet-stream', id::text, false,
             md5(id::text || random()::text) || md5(random()::text), now() - interval '1 minute'
      from (select gen_random_uuid() as id, n from generate_series(1, ${count}) n) s`.execute(db);
    await sql`
      insert into file_hashtags (file_id, hashtag_id, owner_id, is_public, created_at, expires_at)
      select f.id, h.id, f.owner_id, f.is_public, f.created_at, f.expires_at
      from files f join hashtags h on h.name = 'bench' || (1 + abs(hashtext(f.id::text)) % 20)
      where f.owner_id = ${owner.id}::uuid`.execute(db);
    const keys = (await db.selectFrom('files').select('storage_key').where('owner_id', '=', owner.id).execute()).map(
      (r) => r.storage_key,
    );
    const dir = app.config.storageDir;
    await fs.mkdir(dir, { recursive: true });
    if (objects) {
      const body = Buffer.from('expired content\n');
      await pool(keys, 64, (key) => fs.writeFile(path.join(dir, key), body));
    }
    await sql`analyze files`.execute(db);
    await sql`analyze file_hashtags`.execute(db);
    console.log(
      `expiry: ${count} expired files${objects ? ' with objects' : ' (rows only)'} set up in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`,
    );

    // List requests as the lister: own files and the public gallery, 4 at a time.
    const listOnce = async () => {
      const started = performance.now();
      const path = Math.random() < 0.5 ? '/api/files/?limit=20' : '/api/public/files/?limit=20';
      const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${lister.access}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`list answered ${res.status}`);
      return performance.now() - started;
    };
    const listFor = async (until: () => boolean) => {
      const times: number[] = [];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (!until()) times.push(await listOnce());
        }),
      );
      return times;
    };
    for (let i = 0; i < 20; i++) await listOnce(); // warm-up
    const beforeEnd = Date.now() + 5_000;
    const before = await listFor(() => Date.now() > beforeEnd);

    const exists = (key: string) =>
      fs.access(path.join(dir, key)).then(
        () => true,
        () => false,
      );

    // The sweep, through Agenda (as the schedule would run it), timed until the run completes.
    let done = false;
    const completed = new Promise<void>((resolve, reject) => {
      app.deps.jobs.agenda.once('complete:delete-expired-files', () => resolve());
      app.deps.jobs.agenda.once('fail:delete-expired-files', (err: unknown) => reject(err));
    });
    const sweepStarted = Date.now();
    await app.deps.jobs.agenda.now('delete-expired-files', {});
    const during = listFor(() => done);
    await completed;
    const gone = Date.now() - sweepStarted;
    done = true;
    const duringTimes = await during;
    const rowsLeft = Number(
      (
        await db
          .selectFrom('files')
          .select(sql<string>`count(*)`.as('n'))
          .where('owner_id', '=', owner.id)
          .executeTakeFirstOrThrow()
      ).n,
    );
    let objectsLeft = 0;
    if (objects) await pool(keys, 64, async (key) => void ((await exists(key)) && objectsLeft++));
    const links = Number(
      (
        await sql<{
          n: string;
        }>`select count(*) as n from file_hashtags fh left join files f on f.id = fh.file_id where f.id is null`.execute(
          db,
        )
      ).rows[0]?.n,
    );
    const audit = await db
      .selectFrom('audit_log')
      .select(sql<string>`coalesce(sum((meta->>'count')::int), 0)`.as('n'))
      .where('action', '=', 'file.expired')
      .executeTakeFirstOrThrow();

    const b = mean(before);
    const d = mean(duringTimes);
    console.log(
      `expiry: sweep of ${count} expired files done in ${(gone / 1000).toFixed(1)} s (goal <= 60 s); rows left ${rowsLeft}, objects left ${objectsLeft}, dangling links ${links}, audited ${audit.n}`,
    );
    console.log(
      `  list requests before: ${before.length} in 5 s, mean ${b.toFixed(1)} ms, p95 ${quantile(before, 0.95).toFixed(1)} ms`,
    );
    console.log(
      `  list requests during: ${duringTimes.length} in ${(gone / 1000).toFixed(1)} s, mean ${d.toFixed(1)} ms, p95 ${quantile(duringTimes, 0.95).toFixed(1)} ms`,
    );
    console.log(`expiry list latency ratio during/before ${(d / b).toFixed(2)} (goal <= 2)`);
    return { seconds: gone / 1000, ratio: d / b, rowsLeft, objectsLeft };
  } finally {
    await app.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchExpiry();
