/** Shared helpers of the auth tests. */
import type { KyselyPlugin } from 'kysely';
import type { TestApp } from './harness.js';

/** Stops an app once no job is running (agenda's drain can miss a job finishing and wait its full 10 s timeout). */
export async function stopWhenIdle(a: TestApp | undefined): Promise<void> {
  if (!a) return;
  for (let i = 0; i < 100; i++) {
    const stats = await Promise.resolve()
      .then(() => a.deps.jobs.agenda.getRunningStats())
      .catch(() => undefined);
    if (!stats || Number(stats.runningJobs) === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await a.stop();
}

/** How many open (unused) codes an address has. */
export async function openCodes(a: TestApp, destination: string): Promise<number> {
  const rows = await a.deps.db
    .selectFrom('otp_challenges')
    .select('id')
    .where('destination', '=', destination)
    .where('consumed_at', 'is', null)
    .execute();
  return rows.length;
}

/** Records the SQL of every query made through deps.db (a Kysely plugin; nothing is changed). */
export function recordQueries(app: Pick<TestApp, 'deps'>): { sql: string[]; stop(): void } {
  const original = app.deps.db;
  const sql: string[] = [];
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      sql.push(original.getExecutor().compileQuery(args.node, args.queryId).sql);
      return args.node;
    },
    async transformResult(args) {
      return args.result;
    },
  };
  app.deps.db = original.withPlugin(plugin);
  return {
    sql,
    stop() {
      app.deps.db = original;
    },
  };
}

/** The sign-in link in a code message (`<origin>/otp-login#token=<token>`), and its token. */
export function signInLinkFrom(text: string): { url: string; token: string } {
  const match = /(https?:\/\/\S+?\/otp-login#token=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+))/.exec(text);
  if (!match?.[1] || !match[2]) throw new Error(`no sign-in link in: ${text}`);
  return { url: match[1], token: match[2] };
}
