/**
 * The sign-in link of every code message (issue 8 item 3): proof of the mailbox or phone that needs no guess, so a
 * stranger who spent an address's per-address budgets cannot keep its owner out. It works once, for the per-address
 * request window from its code's request (whatever became of the code: expired, replaced, burned), until the address
 * signs in, and is limited per IP only. Client IPs come from X-Forwarded-For behind a trusted proxy (TRUST_PROXY=true).
 */
import { createTagdropClient } from '@tagdrop/contracts/client';
import { TRPCClientError } from '@trpc/client';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from '../src/deps.types.js';
import { seal } from '../src/infra/secrets.js';
import { sendOtpJob } from '../src/jobs/send-otp.job.js';
import { challengeIdOfToken } from '../src/modules/auth/otp-link.js';
import { openCodes, signInLinkFrom, stopWhenIdle } from './auth-helpers.js';
import { codeFrom, type ReceivedMail, startTestApp, type TestApp } from './harness.js';

type ErrorBody = { error: { code: string; message: string } };
type Tokens = { access: string; refresh: string; user: { id: string; email: string | null; phone: string | null } };

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ TRUST_PROXY: 'true', OTP_IP_LIMIT: '1000' });
});
afterAll(async () => {
  await stopWhenIdle(app);
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const request = (body: Record<string, string>, ip: string) =>
  app.api<ErrorBody>('POST', '/api/otp-login/', { body, headers: from(ip) });
const verify = (email: string, otp: string, ip: string) =>
  app.api<ErrorBody & Tokens>('POST', '/api/verify-otp/', { body: { email, otp }, headers: from(ip) });
const follow = (token: string, ip: string) =>
  app.api<ErrorBody & Tokens>('POST', '/api/otp-login/link/', { body: { token }, headers: from(ip) });
const wrong = (code: string, n = 1) => String((Number(code) + n) % 1_000_000).padStart(6, '0');

/** Waits until no send-otp job is left (every code has been delivered or dropped). */
async function settled() {
  await expect
    .poll(
      async () => {
        const { rows } = await sql<{
          n: string;
        }>`select count(*) as n from agenda_jobs where name = 'send-otp'`.execute(app.deps.db);
        return Number(rows[0]?.n);
      },
      { timeout: 15_000 },
    )
    .toBe(0);
}

/** Asks for a code by email from `ip` once earlier jobs are done; returns the email that arrives. */
async function ask(email: string, ip: string): Promise<ReceivedMail> {
  await settled();
  const since = app.mail.items.length;
  expect((await request({ email }, ip)).status).toBe(200);
  return app.mail.wait((m) => m.to === email, { since });
}

function expectInvalidLink(res: { status: number; body: ErrorBody }) {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('invalid_link');
  expect(res.body.error.message).toBe('That sign-in link is invalid, used or expired. Request a new code.');
}

describe('a stranger who spent the per-address budgets cannot keep the owner out', () => {
  it('the owner signs in from a new IP with the link of the latest message, once', async () => {
    const email = 'link-victim@example.com';
    // A stranger spends the address's 20 code requests (4 IPs × 5)...
    for (let i = 0; i < LOGIN_LIMITS.requestsPerAddress - 1; i++) {
      expect((await request({ email }, `198.51.100.${1 + Math.floor(i / 5)}`)).status).toBe(200);
    }
    const latest = await ask(email, '198.51.100.4');
    // ...and its 25 wrong codes (3 IPs that asked for nothing, so no code of theirs is burned).
    for (let i = 0; i < LOGIN_LIMITS.wrongPerAddress; i++) {
      const res = await verify(email, wrong(codeFrom(latest.text), i + 1), `198.51.100.${20 + Math.floor(i / 10)}`);
      expect(res.status).toBe(400);
    }

    // The owner, on an IP the account never used, can neither ask for a code nor use the right one...
    expect((await request({ email }, '203.0.113.70')).status).toBe(429);
    expect((await verify(email, codeFrom(latest.text), '203.0.113.70')).status).toBe(429);
    // ...but the messages the stranger caused carry links: the latest one signs them in, from yet another IP.
    const { url, token } = signInLinkFrom(latest.text);
    expect(url.startsWith(`${app.deps.baseUrl}/otp-login#token=`)).toBe(true);
    expect(token.length).toBeGreaterThanOrEqual(43); // 16 bytes of id + 16 bytes (128 bits) of MAC, base64url
    const res = await follow(token, '203.0.113.71');
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(email);
    expect(res.body.refresh).toEqual(expect.any(String));
    const sessions = await app.api<{ results: { method: string; ip: string; current: boolean }[] }>(
      'GET',
      '/api/sessions/',
      { token: res.body.access },
    );
    expect(sessions.body.results).toEqual([expect.objectContaining({ method: 'otp', ip: '203.0.113.71' })]);

    // Once: the link is used, and its code with it.
    expectInvalidLink(await follow(token, '203.0.113.71'));
    expectInvalidLink(await follow(token, '203.0.113.72'));
    expect((await verify(email, codeFrom(latest.text), '203.0.113.71')).status).toBe(400);
  });
});

describe('a stranger who spent the budgets and closed their codes cannot keep the owner out', () => {
  it('4 IPs spend the 20 requests, replace and burn every code: the owner on a new IP gets 429, the newest link works', async () => {
    const email = 'link-siege@example.com';
    const strangers = ['198.51.100.31', '198.51.100.32', '198.51.100.33', '198.51.100.34'];
    // 5 requests from each IP: each one replaces the code asked for before it from that IP...
    for (const ip of strangers) {
      for (let i = 0; i < LOGIN_LIMITS.requestsPerAddressIp; i++)
        expect((await request({ email }, ip)).status).toBe(200);
    }
    // ...and 5 wrong tries from each burn the last one (20 wrong codes: within the address's 25).
    for (const ip of strangers) {
      for (let i = 0; i < 5; i++) expect((await verify(email, '000000', ip)).status).toBe(400);
    }
    expect(await openCodes(app, email)).toBe(0);
    await settled();

    // The owner, on an IP the account never used, cannot ask for a code until the window ends...
    const owner = '203.0.113.170';
    const refused = await request({ email }, owner);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // ...but every request of the stranger's sent them a link that works: the newest one signs them in.
    const messages = app.mail.items.filter((m) => m.to === email);
    expect(messages.length).toBeGreaterThanOrEqual(strangers.length);
    const newest = messages.at(-1) as ReceivedMail;
    const res = await follow(signInLinkFrom(newest.text).token, owner);
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(email);
    // That sign-in ends every other link of the window (all asked for before it).
    for (const m of messages.slice(0, -1)) expectInvalidLink(await follow(signInLinkFrom(m.text).token, owner));
  });
});

/** Moves a challenge's request time (and so its link's window) `seconds` into the past. */
async function askedAgo(token: string, seconds: number) {
  const challengeId = challengeIdOfToken(app.deps.keys.otpLink, token);
  expect(challengeId).toBeDefined();
  await sql`update otp_challenges set created_at = now() - ${seconds}::int * interval '1 second' where id = ${challengeId}`.execute(
    app.deps.db,
  );
}

describe('the link outlives its code', () => {
  it('works after its code was burned by 5 wrong tries from the IP that asked', async () => {
    const email = 'link-burned@example.com';
    const mail = await ask(email, '203.0.113.82');
    for (let i = 1; i <= 5; i++) {
      expect((await verify(email, wrong(codeFrom(mail.text), i), '203.0.113.82')).status).toBe(400);
    }
    expect((await verify(email, codeFrom(mail.text), '203.0.113.82')).status).toBe(400); // the code is burned
    const res = await follow(signInLinkFrom(mail.text).token, '203.0.113.82');
    expect(res.status).toBe(200);
    expect(res.body.user.email).toBe(email);
  });

  it('works after its code was replaced by a second request from the same IP; that sign-in ends the second link', async () => {
    const email = 'link-replaced@example.com';
    const first = await ask(email, '203.0.113.83');
    const second = await ask(email, '203.0.113.83');
    expect((await verify(email, codeFrom(first.text), '203.0.113.83')).status).toBe(400); // the code is replaced
    expect((await follow(signInLinkFrom(first.text).token, '203.0.113.83')).status).toBe(200);
    // The second link was asked for before that sign-in: dead, and its code closed with every open code.
    expectInvalidLink(await follow(signInLinkFrom(second.text).token, '203.0.113.83'));
    expect((await verify(email, codeFrom(second.text), '203.0.113.83')).status).toBe(400);
  });

  it("works after its code's TTL, until the end of the request window counted from the request", async () => {
    const email = 'link-late@example.com';
    const mail = await ask(email, '203.0.113.81');
    const { token } = signInLinkFrom(mail.text);
    await app.deps.db
      .updateTable('otp_challenges')
      .set({ expires_at: new Date(Date.now() - 60_000) })
      .where('destination', '=', email)
      .execute();
    expect((await verify(email, codeFrom(mail.text), '203.0.113.81')).status).toBe(400); // the code expired
    await askedAgo(token, LOGIN_LIMITS.windowSeconds - 30); // 14.5 minutes ago: still in the window
    expect((await follow(token, '203.0.113.81')).status).toBe(200);
  });

  it('a message whose code closed before delivery still carries a working link (and only the link)', async () => {
    const email = 'link-undelivered@example.com';
    const mail = await ask(email, '203.0.113.86');
    const { token } = signInLinkFrom(mail.text);
    const challengeId = challengeIdOfToken(app.deps.keys.otpLink, token) as string;
    for (let i = 1; i <= 5; i++) await verify(email, wrong(codeFrom(mail.text), i), '203.0.113.86');
    expect(await openCodes(app, email)).toBe(0);
    // The job of that request run now (as when the stranger burns the code before it is sent).
    const payload = {
      challengeId,
      channel: 'email' as const,
      destination: email,
      sealedCode: seal(app.deps.keys.jobs, '123456'),
      ttlSeconds: app.config.OTP_TTL_SECONDS,
    };
    const since = app.mail.items.length;
    await sendOtpJob.handler(payload, app.deps, undefined as never);
    const late = await app.mail.wait((m) => m.to === email, { since });
    expect(late.subject).toBe('Your Tagdrop sign-in link');
    expect(late.text).not.toMatch(/123456/);
    expect(late.text).toMatch(/works once, for 15 minutes from your request/);
    expect(signInLinkFrom(late.text).token).toBe(token);
    expect((await follow(token, '203.0.113.86')).status).toBe(200);
    // Once the address signed in, that link is dead and the job sends nothing.
    const count = app.mail.items.length;
    await sendOtpJob.handler(payload, app.deps, undefined as never);
    expect(app.mail.items.length).toBe(count);
  });
});

describe('the link dies', () => {
  it('after the request window, counted from the request', async () => {
    const email = 'link-window@example.com';
    const mail = await ask(email, '203.0.113.87');
    const { token } = signInLinkFrom(mail.text);
    await askedAgo(token, LOGIN_LIMITS.windowSeconds + 1);
    expectInvalidLink(await follow(token, '203.0.113.87'));
  });

  it('once the address signed in with a later code', async () => {
    const email = 'link-later-code@example.com';
    const older = await ask(email, '203.0.113.88');
    const newer = await ask(email, '203.0.113.89');
    expect((await verify(email, codeFrom(newer.text), '203.0.113.89')).status).toBe(200);
    expectInvalidLink(await follow(signInLinkFrom(older.text).token, '203.0.113.88'));
  });

  it('once the address signed in with an earlier code; a link asked for after that sign-in works', async () => {
    const email = 'link-earlier-code@example.com';
    const earlier = await ask(email, '203.0.113.90');
    const link = await ask(email, '203.0.113.91');
    expect((await verify(email, codeFrom(earlier.text), '203.0.113.90')).status).toBe(200);
    expectInvalidLink(await follow(signInLinkFrom(link.text).token, '203.0.113.91'));

    const after = await ask(email, '203.0.113.91');
    expect((await follow(signInLinkFrom(after.text).token, '203.0.113.91')).status).toBe(200);
  });

  it('after one use, also when used 5 times at once (exactly one sign-in)', async () => {
    const email = 'link-race@example.com';
    const mail = await ask(email, '203.0.113.92');
    const { token } = signInLinkFrom(mail.text);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => follow(token, `203.0.113.${120 + i}`)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 200)) expectInvalidLink(r);
    const user = await app.deps.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', email)
      .executeTakeFirstOrThrow();
    const sessions = await app.deps.db.selectFrom('sessions').select('id').where('user_id', '=', user.id).execute();
    expect(sessions).toHaveLength(1);
    expectInvalidLink(await follow(token, '203.0.113.92'));
  });
});

describe('tokens', () => {
  it('refuses tampered and made-up tokens with the same answer', async () => {
    const email = 'link-tamper@example.com';
    const mail = await ask(email, '203.0.113.85');
    const { token } = signInLinkFrom(mail.text);
    const [id = '', mac = ''] = token.split('.');
    const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
    for (const bad of [
      `${id}.${flip(mac, 3)}`,
      `${flip(id, 3)}.${mac}`,
      `${id}.${mac}x`,
      `${id}.${mac}.${mac}`,
      id,
      `${id}.`,
      'not-a-token',
      `${Buffer.alloc(16).toString('base64url')}.${Buffer.alloc(16).toString('base64url')}`,
    ]) {
      expectInvalidLink(await follow(bad, '203.0.113.85'));
    }
    // The real one still works (nothing above touched the code).
    expect((await follow(token, '203.0.113.85')).status).toBe(200);
  });
});

describe('channels and surfaces', () => {
  it('an SMS carries the link too, short, and it signs the phone in', async () => {
    await settled();
    const since = app.sms.items.length;
    expect((await request({ phone: '+14155550123' }, '203.0.113.90')).status).toBe(200);
    const sms = await app.sms.wait((m) => m.to === '+14155550123', { since });
    expect(sms.body).toMatch(/^Tagdrop login code: \d{6}\./);
    const link = signInLinkFrom(sms.body);
    // Short: with a PUBLIC_URL of up to 30 characters it fits one SMS (160).
    expect(sms.body.length - link.url.length + 30 + '/otp-login#token='.length + link.token.length).toBeLessThanOrEqual(
      160,
    );
    const res = await follow(link.token, '203.0.113.91');
    expect(res.status).toBe(200);
    expect(res.body.user.phone).toBe('+14155550123');
  });

  it('tRPC has the same procedure (auth.verifyOtpLink), and the OpenAPI document lists the path', async () => {
    const email = 'link-trpc@example.com';
    const mail = await ask(email, '127.0.0.1');
    const client = createTagdropClient({ url: app.url });
    const failure = await client.auth.verifyOtpLink.mutate({ token: 'nope.nope' }).catch((e) => e);
    expect(failure).toBeInstanceOf(TRPCClientError);
    expect(failure.data).toMatchObject({ code: 'invalid_link', httpStatus: 400 });
    const tokens = await client.auth.verifyOtpLink.mutate({ token: signInLinkFrom(mail.text).token });
    expect(tokens.user.email).toBe(email);

    const doc = await app.api<{ paths: Record<string, { post?: unknown }> }>('GET', '/api/openapi.json');
    expect(Object.keys(doc.body.paths).some((p) => /^\/api\/otp-login\/link\/?$/.test(p))).toBe(true);
  });
});

describe('limited per IP only', () => {
  it(`${LOGIN_LIMITS.wrongLinksPerIpHour} bad links per IP per hour, then 429 for that IP only; no per-address budget is spent`, async () => {
    const email = 'link-limits@example.com';
    const mail = await ask(email, '203.0.113.100');
    const ip = '198.51.100.200';
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_LIMITS.wrongLinksPerIpHour + 5; i++) statuses.push((await follow(`x${i}.y`, ip)).status);
    expect(statuses.slice(0, LOGIN_LIMITS.wrongLinksPerIpHour).every((s) => s === 400)).toBe(true);
    expect(statuses.slice(LOGIN_LIMITS.wrongLinksPerIpHour).every((s) => s === 429)).toBe(true);
    const limited = await follow(signInLinkFrom(mail.text).token, ip);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another IP is not affected, and the address's own code still works (no per-address budget touched).
    expect((await verify(email, codeFrom(mail.text), '203.0.113.100')).status).toBe(200);
  });

  it('concurrent bad links from one IP cannot exceed its budget', async () => {
    const ip = '198.51.100.201';
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => follow(`c${i}.z`, ip).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 400)).toHaveLength(LOGIN_LIMITS.wrongLinksPerIpHour);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - LOGIN_LIMITS.wrongLinksPerIpHour);
  });
});
