/**
 * OTP login over real HTTP: both channels (SMTP email, SMS webhook, Twilio wire format), the code's rules
 * (wrong, reused, expired, burned, replaced), input validation, enumeration and sign-up, delivery retries.
 */
import { createTagdropClient } from '@tagdrop/contracts/client';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCodes, stopWhenIdle } from './auth-helpers.js';
import { codeFrom, type ReceivedMail, type ReceivedSms, startTestApp, type TestApp } from './harness.js';

type ErrorBody = { error: { code: string; message: string; fields?: Record<string, string[]> } };
type Tokens = {
  access: string;
  refresh: string;
  user: { id: string; email: string | null; phone: string | null; role: string };
};

const TWILIO = { sid: 'AC0123456789abcdef0123456789abcdef', token: 'twilio-secret-token', from: '+15005550006' };

let app: TestApp;
let shortTtl: TestApp;
let twilio: TestApp;
let closed: TestApp;

beforeAll(async () => {
  [app, shortTtl, twilio, closed] = await Promise.all([
    startTestApp(),
    startTestApp({ OTP_TTL_SECONDS: '30' }),
    startTestApp({
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: TWILIO.sid,
      TWILIO_AUTH_TOKEN: TWILIO.token,
      TWILIO_FROM: TWILIO.from,
    }),
    startTestApp({ ALLOW_SIGNUP: 'false' }),
  ]);
});
afterAll(async () => {
  await Promise.all([app, shortTtl, twilio, closed].map(stopWhenIdle));
});

/** Requests a code by email and returns the received email. */
async function emailCode(a: TestApp, email: string): Promise<ReceivedMail> {
  const since = a.mail.items.length;
  const res = await a.api<{ detail: string }>('POST', '/api/otp-login/', { body: { email } });
  expect(res.status).toBe(200);
  return a.mail.wait((m) => m.to === email.trim().toLowerCase(), { since });
}

async function smsCode(a: TestApp, phone: string, e164: string): Promise<ReceivedSms> {
  const since = a.sms.items.length;
  const res = await a.api('POST', '/api/otp-login/', { body: { phone } });
  expect(res.status).toBe(200);
  return a.sms.wait((m) => m.to === e164, { since });
}

const verify = (a: TestApp, body: Record<string, string>) =>
  a.api<Tokens & ErrorBody>('POST', '/api/verify-otp/', { body });

/** A 6-digit code guaranteed to differ from `code`. */
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

describe('email channel', () => {
  it('delivers the code through SMTP, saying what it is for and how long it lasts, and logs in', async () => {
    const users = () =>
      app.deps.db.selectFrom('users').select('id').where('email', '=', 'new.person@example.com').execute();
    expect(await users()).toHaveLength(0);

    const mail = await emailCode(app, '  New.Person@Example.COM ');
    expect(mail.to).toBe('new.person@example.com');
    const code = codeFrom(mail.text);
    expect(mail.subject).toMatch(/tagdrop/i);
    expect(mail.text).toMatch(/log ?in|sign in/i);
    expect(mail.text).toMatch(/5 minutes/);

    const res = await verify(app, { email: 'new.person@EXAMPLE.com', otp: code });
    expect(res.status).toBe(200);
    expect(res.body.access.split('.')).toHaveLength(3);
    expect(res.body.refresh.length).toBeGreaterThanOrEqual(43); // 256 bits, base64url
    expect(res.body.user).toMatchObject({ email: 'new.person@example.com', phone: null, role: 'user' });

    // First login created exactly one account.
    expect(await users()).toHaveLength(1);
    const me = await app.api<{ id: string; email: string }>('GET', '/api/me/', { token: res.body.access });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: res.body.user.id, email: 'new.person@example.com' });
  });

  it('stores only a hash of the code', async () => {
    const mail = await emailCode(app, 'hash@example.com');
    const code = codeFrom(mail.text);
    const rows = await app.deps.db
      .selectFrom('otp_challenges')
      .selectAll()
      .where('destination', '=', 'hash@example.com')
      .execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(code);
  });
});

describe('phone channel', () => {
  it('normalises the number to E.164 and delivers through the SMS webhook', async () => {
    const sms = await smsCode(app, '+1 (415) 555-2671', '+14155552671');
    expect(sms.via).toBe('webhook');
    expect(sms.body).toMatch(/tagdrop/i);
    expect(sms.body).toMatch(/log ?in|sign in/i);
    expect(sms.body).toMatch(/5 minutes/);

    const res = await verify(app, { phone: '+1 415-555-2671', otp: codeFrom(sms.body) });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ phone: '+14155552671', email: null, role: 'user' });
  });

  it('speaks Twilio’s Messages API: Basic auth, From, To, Body', async () => {
    const sms = await smsCode(twilio, '+1 (415) 555-2671', '+14155552671');
    expect(sms.via).toBe('twilio');
    expect(sms.auth).toBe(`Basic ${Buffer.from(`${TWILIO.sid}:${TWILIO.token}`).toString('base64')}`);
    expect(sms.from).toBe(TWILIO.from);
    expect(sms.to).toBe('+14155552671');
    expect(sms.body).toMatch(/tagdrop/i);
    expect(sms.body).toMatch(/5 minutes/);
    const res = await verify(twilio, { phone: '+14155552671', otp: codeFrom(sms.body) });
    expect(res.status).toBe(200);
    expect(res.body.user.phone).toBe('+14155552671');
  });

  it('retries the SMS when the provider answers 503', async () => {
    const since = app.sms.items.length;
    app.smsControl.failNext = 1;
    const res = await app.api('POST', '/api/otp-login/', { body: { phone: '+44 20 7183 8750' } });
    expect(res.status).toBe(200);
    const sms = await app.sms.wait((m) => m.to === '+442071838750', { since, timeoutMs: 20_000 });
    expect(app.smsControl.failNext).toBe(0); // the first attempt was refused
    expect((await verify(app, { phone: '+442071838750', otp: codeFrom(sms.body) })).status).toBe(200);
  });
});

describe('tRPC', () => {
  it('requests and verifies a code through auth.requestOtp / auth.verifyOtp and reads auth.me', async () => {
    const client = createTagdropClient({ url: app.url });
    const since = app.mail.items.length;
    expect(await client.auth.requestOtp.mutate({ email: 'trpc@example.com' })).toEqual({
      detail: expect.any(String),
    });
    const mail = await app.mail.wait((m) => m.to === 'trpc@example.com', { since });
    const code = codeFrom(mail.text);

    const failure = await client.auth.verifyOtp.mutate({ email: 'trpc@example.com', otp: wrong(code) }).catch((e) => e);
    expect(failure).toBeInstanceOf(TRPCClientError);
    expect(failure.data).toMatchObject({ code: 'invalid_otp', httpStatus: 400 });
    expect(failure.data.stack).toBeUndefined();

    const tokens = await client.auth.verifyOtp.mutate({ email: 'trpc@example.com', otp: code });
    const authed = createTagdropClient({ url: app.url, token: tokens.access });
    expect(await authed.auth.me.query()).toMatchObject({ email: 'trpc@example.com', id: tokens.user.id });
  });

  it('answers invalid_phone through tRPC too', async () => {
    const client = createTagdropClient({ url: app.url });
    const failure = await client.auth.requestOtp.mutate({ phone: '12' }).catch((e) => e);
    expect(failure).toBeInstanceOf(TRPCClientError);
    expect(failure.data).toMatchObject({ code: 'invalid_phone', httpStatus: 400 });
  });
});

describe('the code', () => {
  it('a wrong code is refused with invalid_otp, and the right one still works after it', async () => {
    const code = codeFrom((await emailCode(app, 'wrong@example.com')).text);
    const res = await verify(app, { email: 'wrong@example.com', otp: wrong(code) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_otp');
    expect((await verify(app, { email: 'wrong@example.com', otp: code })).status).toBe(200);
  });

  it('works only once', async () => {
    const code = codeFrom((await emailCode(app, 'reuse@example.com')).text);
    expect((await verify(app, { email: 'reuse@example.com', otp: code })).status).toBe(200);
    const again = await verify(app, { email: 'reuse@example.com', otp: code });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_otp');
  });

  it('expires', async () => {
    const code = codeFrom((await emailCode(shortTtl, 'late@example.com')).text);
    const row = await shortTtl.deps.db
      .selectFrom('otp_challenges')
      .select(['created_at', 'expires_at'])
      .where('destination', '=', 'late@example.com')
      .executeTakeFirstOrThrow();
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBeGreaterThan(25_000);
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBeLessThanOrEqual(31_000);
    await shortTtl.deps.db
      .updateTable('otp_challenges')
      .set({ expires_at: new Date(Date.now() - 1_000) })
      .where('destination', '=', 'late@example.com')
      .execute();
    const res = await verify(shortTtl, { email: 'late@example.com', otp: code });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_otp');
  });

  it('tells the real lifetime when it is shorter than a minute', async () => {
    // OTP_TTL_SECONDS=30: the message must not promise a whole minute.
    const mail = await emailCode(shortTtl, 'short@example.com');
    expect(mail.text).toMatch(/30 seconds/);
    expect(mail.text).not.toMatch(/1 minute/);
  });

  it('is burned by 5 wrong tries: afterwards even the right code fails', async () => {
    const code = codeFrom((await emailCode(app, 'burn@example.com')).text);
    for (let i = 0; i < 5; i++) {
      const res = await verify(app, { email: 'burn@example.com', otp: wrong(code) });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_otp');
    }
    const right = await verify(app, { email: 'burn@example.com', otp: code });
    expect(right.status).toBe(400);
    expect(right.body.error.code).toBe('invalid_otp');
  });

  it('is replaced by a newer request', async () => {
    const first = codeFrom((await emailCode(app, 'twice@example.com')).text);
    let second = codeFrom((await emailCode(app, 'twice@example.com')).text);
    // One chance in a million that both codes match; ask once more so the test stays meaningful.
    if (second === first) second = codeFrom((await emailCode(app, 'twice@example.com')).text);
    expect(second).not.toBe(first);

    const old = await verify(app, { email: 'twice@example.com', otp: first });
    expect(old.status).toBe(400);
    expect(old.body.error.code).toBe('invalid_otp');
    expect((await verify(app, { email: 'twice@example.com', otp: second })).status).toBe(200);
  });

  it('cannot be guessed for an address that never asked for one', async () => {
    const res = await verify(app, { email: 'nobody-asked@example.com', otp: '123456' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_otp');
    const users = await app.deps.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'nobody-asked@example.com')
      .execute();
    expect(users).toHaveLength(0);
  });
});

describe('input validation', () => {
  it('accepts the paths with and without the trailing slash', async () => {
    const since = app.mail.items.length;
    const res = await app.api('POST', '/api/otp-login', { body: { email: 'noslash@example.com' } });
    expect(res.status).toBe(200);
    const mail = await app.mail.wait((m) => m.to === 'noslash@example.com', { since });
    const verified = await app.api('POST', '/api/verify-otp', {
      body: { email: 'noslash@example.com', otp: codeFrom(mail.text) },
    });
    expect(verified.status).toBe(200);
  });

  it.each([['12'], ['+1 555'], ['not a phone'], ['+99 123 456 789']])(
    'rejects phone %j with invalid_phone',
    async (phone) => {
      const res = await app.api<ErrorBody>('POST', '/api/otp-login/', { body: { phone } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_phone');
      expect(res.body.error.fields?.phone).toBeDefined();
    },
  );

  it.each([['not-an-email'], ['a@'], ['@example.com'], ['a b@example.com']])(
    'rejects email %j with invalid_email',
    async (email) => {
      const res = await app.api<ErrorBody>('POST', '/api/otp-login/', { body: { email } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_email');
      expect(res.body.error.fields?.email).toBeDefined();
    },
  );

  it('wants exactly one of email or phone, and a 6-digit code', async () => {
    const none = await app.api<ErrorBody>('POST', '/api/otp-login/', { body: {} });
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('validation_error');
    const both = await app.api<ErrorBody>('POST', '/api/otp-login/', {
      body: { email: 'both@example.com', phone: '+14155552671' },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.code).toBe('validation_error');
    const shortCode = await verify(app, { email: 'both@example.com', otp: '123' });
    expect(shortCode.status).toBe(400);
    expect(shortCode.body.error.code).toBe('validation_error');
    expect(shortCode.body.error.fields?.otp).toBeDefined();
  });
});

describe('enumeration', () => {
  const raw = async (a: TestApp, body: unknown) => {
    const res = await fetch(`${a.url}/api/otp-login/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      length: res.headers.get('content-length'),
      text: await res.text(),
    };
  };

  it('answers known and unknown people byte for byte the same', async () => {
    await app.login('known@example.com');
    const known = await raw(app, { email: 'known@example.com' });
    const unknown = await raw(app, { email: 'unknown-person@example.com' });
    expect(known.status).toBe(200);
    expect(unknown).toEqual(known);
  });

  it('with ALLOW_SIGNUP=false: the same answer, but no code and no account for unknown people', async () => {
    await closed.deps.db.insertInto('users').values({ email: 'member@example.com' }).execute();
    const stranger = await raw(closed, { email: 'stranger@example.com' });
    const member = await raw(closed, { email: 'member@example.com' });
    expect(member.status).toBe(200);
    expect(stranger).toEqual(member);

    // The member's email arrives; the stranger's never does: the job closes that code instead of sending it.
    const mail = await closed.mail.wait((m) => m.to === 'member@example.com');
    await expect.poll(() => openCodes(closed, 'stranger@example.com'), { timeout: 10_000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 1_500)); // at least one more job polling round
    expect(closed.mail.items.filter((m) => m.to === 'stranger@example.com')).toHaveLength(0);

    const guess = await verify(closed, { email: 'stranger@example.com', otp: '000000' });
    expect(guess.status).toBe(400);
    expect(guess.body.error.code).toBe('invalid_otp');
    const strangers = await closed.deps.db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'stranger@example.com')
      .execute();
    expect(strangers).toHaveLength(0);

    // Existing members still log in.
    expect((await verify(closed, { email: 'member@example.com', otp: codeFrom(mail.text) })).status).toBe(200);
  });
});
