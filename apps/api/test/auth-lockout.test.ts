/**
 * Nobody can lock a victim out of login (issue 8 item 3), and guessing stays bounded however many IPs try.
 * Client IPs come from X-Forwarded-For behind a trusted loopback proxy (TRUST_PROXY=true).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from '../src/deps.types.js';
import { stopWhenIdle } from './auth-helpers.js';
import { codeFrom, startTestApp, type TestApp } from './harness.js';

type ErrorBody = { error: { code: string } };

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ TRUST_PROXY: 'true', OTP_IP_LIMIT: '1000' });
});
afterAll(async () => {
  await stopWhenIdle(app);
});

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const request = (email: string, ip: string) =>
  app.api<ErrorBody>('POST', '/api/otp-login/', { body: { email }, headers: from(ip) });
const verify = (email: string, otp: string, ip: string) =>
  app.api<ErrorBody & { access: string }>('POST', '/api/verify-otp/', { body: { email, otp }, headers: from(ip) });
/** A 6-digit code guaranteed to differ from `code`. */
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

/** Waits for the next email to `email` after `since` emails, and returns its code. */
async function nextCode(email: string, since: number): Promise<string> {
  return codeFrom((await app.mail.wait((m) => m.to === email, { since })).text);
}

/** Asks for a code from `ip` once earlier jobs are done, and returns the code that arrives. */
async function askCode(email: string, ip: string): Promise<string> {
  await settled();
  const since = app.mail.items.length;
  expect((await request(email, ip)).status).toBe(200);
  return nextCode(email, since);
}

async function flood(email: string, ip: string, times: number) {
  const statuses: number[] = [];
  for (let i = 0; i < times; i++) statuses.push((await request(email, ip)).status);
  return statuses;
}

describe('a stranger cannot lock anyone out', () => {
  it("20 requests and 5+ wrong guesses from other IPs neither block nor burn the victim's code", async () => {
    const email = 'victim-one@example.com';
    const victim = '203.0.113.10';
    const code = await askCode(email, victim);

    // A stranger who asked for nothing guesses against the victim's live code: never burns it.
    for (let i = 1; i <= 6; i++) {
      const res = await verify(email, wrong(code, i), '198.51.100.7');
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_otp');
    }
    // Another stranger floods requests (5 accepted per address and IP, then 429) and guesses on.
    const statuses = await flood(email, '198.51.100.66', 20);
    expect(statuses.filter((s) => s === 200)).toHaveLength(LOGIN_LIMITS.requestsPerAddressIp);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20 - LOGIN_LIMITS.requestsPerAddressIp);
    const guesses: number[] = [];
    for (let i = 1; i <= 12; i++) guesses.push((await verify(email, wrong(code, 10 + i), '198.51.100.66')).status);
    expect(guesses.slice(0, LOGIN_LIMITS.wrongPerAddressIp).every((s) => s === 400)).toBe(true);
    expect(guesses.slice(LOGIN_LIMITS.wrongPerAddressIp).every((s) => s === 429)).toBe(true);

    // The victim's code, asked for first and guessed at 16 times by others, still logs them in.
    const res = await verify(email, code, victim);
    expect(res.status).toBe(200);
    expect((await app.api('GET', '/api/me/', { token: res.body.access })).status).toBe(200);
  });

  it('a new person still gets a code and logs in after a stranger flooded their address', async () => {
    const email = 'victim-two@example.com';
    const statuses = await flood(email, '198.51.100.99', 20);
    expect(statuses.filter((s) => s === 200)).toHaveLength(LOGIN_LIMITS.requestsPerAddressIp);
    for (let i = 0; i < 8; i++) expect((await verify(email, '000000', '198.51.100.99')).status).toBe(400);

    const code = await askCode(email, '203.0.113.20');
    expect((await verify(email, code, '203.0.113.20')).status).toBe(200);
  });

  it('only guesses from the IP that asked for a code burn it (5 tries)', async () => {
    const email = 'clumsy@example.com';
    const ip = '203.0.113.30';
    const code = await askCode(email, ip);
    for (let i = 1; i <= 5; i++) expect((await verify(email, wrong(code, i), ip)).status).toBe(400);
    expect((await verify(email, code, ip)).status).toBe(400);
  });
});

describe('guessing from many IPs stays bounded', () => {
  it(`at most ${LOGIN_LIMITS.wrongPerAddress} wrong codes per address per 15 minutes from IPs the account never used; its owner is not blocked`, async () => {
    const email = 'target@example.com';
    const home = '203.0.113.40';
    // The owner logged in from home before: that IP is recognised for this account.
    expect((await verify(email, await askCode(email, home), home)).status).toBe(200);
    const code = await askCode(email, home);

    // 40 attackers, one guess each, from 40 addresses.
    const results: { status: number; code: string }[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await verify(email, wrong(code, i + 1), `198.18.0.${i + 1}`);
      results.push({ status: res.status, code: res.body.error.code });
      if (res.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(results.filter((r) => r.status === 400)).toHaveLength(LOGIN_LIMITS.wrongPerAddress);
    expect(results.slice(LOGIN_LIMITS.wrongPerAddress).every((r) => r.code === 'rate_limited')).toBe(true);
    // Even the right code is refused from a fresh IP now: the budget is spent, nothing is compared.
    expect((await verify(email, code, '198.18.1.1')).status).toBe(429);

    // The owner, at home, is not held to that budget and logs in with the same code.
    expect((await verify(email, code, home)).status).toBe(200);
  });

  it(`at most ${LOGIN_LIMITS.requestsPerAddress} code requests per address per 15 minutes from IPs the account never used; its owner still gets codes`, async () => {
    const email = 'popular@example.com';
    const home = '203.0.113.50';
    expect((await verify(email, await askCode(email, home), home)).status).toBe(200);

    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await request(email, `198.19.0.${i + 1}`)).status);
    // The owner's own request above counted too.
    expect(statuses.filter((s) => s === 200)).toHaveLength(LOGIN_LIMITS.requestsPerAddress - 1);
    expect(statuses.slice(LOGIN_LIMITS.requestsPerAddress - 1).every((s) => s === 429)).toBe(true);

    const code = await askCode(email, home);
    expect((await verify(email, code, home)).status).toBe(200);
  });
});

describe('concurrent guesses cannot exceed the budgets', () => {
  /** The points a limiter holds for a key (rate-limiter-flexible's Redis key); 0 when none. */
  const pointsOf = async (limiter: string, key: string) =>
    Number((await app.deps.redis.client?.get(`${app.config.REDIS_KEY_PREFIX}rl:${limiter}:${key}`)) ?? 0);

  it(`60 simultaneous wrong guesses from 60 new IPs: ${LOGIN_LIMITS.wrongPerAddress} compared, the rest 429 and take nothing`, async () => {
    const email = 'concurrent-many@example.com';
    const victim = '203.0.113.60';
    const code = await askCode(email, victim);
    const ips = Array.from({ length: 60 }, (_, i) => `198.18.2.${i + 1}`);
    const results = await Promise.all(
      ips.map(async (ip, i) => ({ ip, ...(await verify(email, wrong(code, i + 1), ip)) })),
    );
    const compared = results.filter((r) => r.status === 400);
    const refused = results.filter((r) => r.status === 429);
    expect(compared).toHaveLength(LOGIN_LIMITS.wrongPerAddress);
    expect(compared.every((r) => r.body.error.code === 'invalid_otp')).toBe(true);
    expect(refused).toHaveLength(60 - LOGIN_LIMITS.wrongPerAddress);
    expect(refused.every((r) => r.body.error.code === 'rate_limited')).toBe(true);
    // A refused guess gave back what it took from the other buckets; a compared one keeps its points.
    for (const r of refused) {
      expect(await pointsOf('verify-ip', r.ip)).toBe(0);
      expect(await pointsOf('verify-aip', `${email}|${r.ip}`)).toBe(0);
    }
    for (const r of compared) expect(await pointsOf('verify-ip', r.ip)).toBe(1);

    // The victim's code was never burned by them: from their own IP it is held to the spent budget (a new IP for
    // this account), but the link of their message signs them in.
    expect((await verify(email, code, victim)).status).toBe(429);
    await settled();
    const mail = app.mail.items.filter((m) => m.to === email).at(-1);
    const token = /#token=([\w-]+\.[\w-]+)/.exec(mail?.text ?? '')?.[1];
    const linked = await app.api<{ user: { email: string } }>('POST', '/api/otp-login/link/', {
      body: { token },
      headers: from(victim),
    });
    expect(linked.status).toBe(200);
    expect(linked.body.user.email).toBe(email);
  });

  it(`60 simultaneous wrong guesses from one IP: ${LOGIN_LIMITS.wrongPerAddressIp} compared, the rest 429`, async () => {
    const email = 'concurrent-one@example.com';
    const code = await askCode(email, '203.0.113.61');
    const ip = '198.18.3.1';
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => verify(email, wrong(code, i + 1), ip).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 400)).toHaveLength(LOGIN_LIMITS.wrongPerAddressIp);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - LOGIN_LIMITS.wrongPerAddressIp);
    expect(await pointsOf('verify-ip', ip)).toBe(LOGIN_LIMITS.wrongPerAddressIp);
    // Its owner logs in with the code from the IP that asked for it.
    expect((await verify(email, code, '203.0.113.61')).status).toBe(200);
  });

  it('a right code gives its points back', async () => {
    const email = 'concurrent-right@example.com';
    const ip = '203.0.113.62';
    const code = await askCode(email, ip);
    expect((await verify(email, wrong(code), ip)).status).toBe(400);
    expect(await pointsOf('verify-a', email)).toBe(1);
    expect((await verify(email, code, ip)).status).toBe(200);
    expect(await pointsOf('verify-ip', ip)).toBe(1);
    expect(await pointsOf('verify-a', email)).toBe(1);
    expect(await pointsOf('verify-aip', `${email}|${ip}`)).toBe(0);
  });
});
