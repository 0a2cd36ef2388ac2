import { type Kysely, sql } from 'kysely';

// Frozen in time: this file must not import application code.
// A login code's sign-in link outlives the code: it works for the whole per-address request window, counted from
// the code's request, until the address signs in (by any code or link). `consumed_at` says only that a code is
// closed (used, expired, replaced, burned, undeliverable); `verified_at` records that this challenge signed the
// address in, set in the same statement that closes it. A link is alive while no challenge of its address has a
// `verified_at` at or after the link's own `created_at` (its own use included: single use). The partial index
// serves that check (one index probe per link) and holds only the challenges that signed someone in.
// Challenges closed before this column existed cannot tell a sign-in from another closing: those of the last day
// (older ones are far outside any link's window) are taken as signed in when they closed. That may end a few
// links of that time early; it never brings a closed one back.
// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('otp_challenges').addColumn('verified_at', 'timestamptz').execute();
  await sql`
    update otp_challenges set verified_at = consumed_at
    where consumed_at is not null and expires_at > now() - interval '1 day'
  `.execute(db);
  await sql`
    create index if not exists otp_challenges_verified_idx on otp_challenges (destination, verified_at)
    where verified_at is not null
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations run against an untyped database
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists otp_challenges_verified_idx`.execute(db);
  await db.schema.alterTable('otp_challenges').dropColumn('verified_at').execute();
}
