/**
 * Passkeys over real HTTP (issue 11): add after a code login, list, rename, remove; sign in with one (discoverable,
 * no address) and get the same session and tokens as a code login, listed with its method; single-use short-lived
 * challenges, counters, replayed or forged assertions → 400 invalid_passkey (never a 500); audit entries; tRPC and
 * OpenAPI; ADMIN_REQUIRE_PASSKEY. A software authenticator plays the browser (passkey-helpers.ts).
 */
import { createTagdropClient } from '@tagdrop/contracts/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopWhenIdle } from './auth-helpers.js';
import { startTestApp, type TestApp } from './harness.js';
import {
  addPasskey,
  type LoginOptionsJson,
  passkeyAssertion,
  passkeyLogin,
  type RegistrationOptionsJson,
  SoftAuthenticator,
} from './passkey-helpers.js';

type ErrorBody = { error: { code: string; message: string } };
type Session = { id: string; method: string; current: boolean };

let app: TestApp;
let gated: TestApp;

beforeAll(async () => {
  [app, gated] = await Promise.all([startTestApp(), startTestApp({ ADMIN_REQUIRE_PASSKEY: 'true' })]);
});
afterAll(async () => {
  await Promise.all([app, gated].map(stopWhenIdle));
});

const loginWith = (a: TestApp, credential: unknown) =>
  a.api<ErrorBody & { access: string; user: { id: string } }>('POST', '/api/passkeys/login/', { body: { credential } });
function expectInvalid(res: { status: number; body: ErrorBody }) {
  expect(res.status).toBe(400);
  expect(res.body.error.code).toBe('invalid_passkey');
  expect(res.body.error.message).not.toMatch(/\bat \w|Error:|simplewebauthn/);
}
const auditActions = async (a: TestApp, userId: string) =>
  (
    await a.deps.db
      .selectFrom('audit_log')
      .select('action')
      .where('actor_id', '=', userId)
      .orderBy('id', 'asc')
      .execute()
  ).map((r) => r.action);
/** The refused passkey sign-ins logged after audit entry `afterId` (a bigint id as text), oldest first. */
const refusals = (a: TestApp, afterId = '0') =>
  a.deps.db
    .selectFrom('audit_log')
    .select(['actor_id', 'target_type', 'target_id', 'meta', 'ip'])
    .where('action', '=', 'passkey.login_refused')
    .where('id', '>', afterId)
    .orderBy('id', 'asc')
    .execute();
const lastAuditId = async (a: TestApp) =>
  (
    await a.deps.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst()
  )?.id ?? '0';
/** What a refusal entry may say: its reason, and the passkey when the credential is known; nothing of the answer. */
function expectSmall(entry: { actor_id: string | null; meta: Record<string, unknown> }) {
  expect(entry.actor_id).toBeNull();
  expect(Object.keys(entry.meta).every((k) => k === 'reason' || k === 'passkey_id')).toBe(true);
}

describe('adding and managing passkeys', () => {
  it('after a code login: added with a name, listed with its last use, renamed, removed; audit-logged', async () => {
    const tokens = await app.login('keys@example.com');
    const authenticator = new SoftAuthenticator();
    const added = await addPasskey(app, authenticator, tokens.access, 'Laptop');
    expect(added).toMatchObject({ name: 'Laptop', last_used_at: null, device_type: 'singleDevice', backed_up: false });

    const list = await app.api<{ results: { id: string; name: string; last_used_at: string | null }[] }>(
      'GET',
      '/api/passkeys/',
      { token: tokens.access },
    );
    expect(list.body.results.map((p) => p.name)).toEqual(['Laptop']);
    await passkeyLogin(app, authenticator);
    const used = await app.api<{ results: { last_used_at: string | null }[] }>('GET', '/api/passkeys/', {
      token: tokens.access,
    });
    expect(used.body.results[0]?.last_used_at).toEqual(expect.any(String));

    const renamed = await app.api<{ name: string }>('PATCH', `/api/passkeys/${added.id}/`, {
      token: tokens.access,
      body: { name: 'Work laptop' },
    });
    expect(renamed.body.name).toBe('Work laptop');
    const before = await lastAuditId(app);

    // Someone else cannot see, rename or remove it.
    const other = await app.login('not-mine@example.com');
    expect((await app.api('GET', '/api/passkeys/', { token: other.access })).body).toEqual({ results: [] });
    expect((await app.api('DELETE', `/api/passkeys/${added.id}/`, { token: other.access })).status).toBe(404);
    expect(
      (await app.api('PATCH', `/api/passkeys/${added.id}/`, { token: other.access, body: { name: 'x' } })).status,
    ).toBe(404);

    // The rename is logged, once: the stranger's refused rename is not.
    const renames = await app.deps.db
      .selectFrom('audit_log')
      .select(['actor_id', 'target_type', 'target_id', 'meta'])
      .where('action', '=', 'passkey.renamed')
      .execute();
    expect(renames).toEqual([
      { actor_id: tokens.user.id, target_type: 'passkey', target_id: added.id, meta: { name: 'Work laptop' } },
    ]);

    expect((await app.api('DELETE', `/api/passkeys/${added.id}/`, { token: tokens.access })).status).toBe(200);
    expectInvalid(await loginWith(app, await passkeyAssertion(app, authenticator)));
    expect(await auditActions(app, tokens.user.id)).toEqual(
      expect.arrayContaining(['passkey.added', 'passkey.used', 'passkey.renamed', 'passkey.removed']),
    );
    // Signing in with the removed passkey: refused and logged, with nobody to name as its target any more.
    const refused = await refusals(app, before);
    expect(refused).toEqual([
      {
        actor_id: null,
        target_type: null,
        target_id: null,
        meta: { reason: 'unknown_credential' },
        ip: expect.any(String),
      },
    ]);
  });

  it('needs a login, names the credentials to exclude, and refuses answers to unknown, used, phished or foreign challenges', async () => {
    expect((await app.api('POST', '/api/passkeys/registration-options/')).status).toBe(401);
    const tokens = await app.login('twice@example.com');
    const authenticator = new SoftAuthenticator();
    await addPasskey(app, authenticator, tokens.access);
    const options = await app.api<RegistrationOptionsJson & { excludeCredentials: { id: string }[] }>(
      'POST',
      '/api/passkeys/registration-options/',
      { token: tokens.access },
    );
    // The browser is told which credential exists already.
    expect(options.body.excludeCredentials.map((c) => c.id)).toEqual(authenticator.credentialIds());

    // A registration answer for a challenge that was never issued (or already answered) is refused.
    const stale = authenticator.create({ ...options.body, challenge: 'bm90LWlzc3VlZA' }, app.url);
    expectInvalid(
      await app.api('POST', '/api/passkeys/', { token: tokens.access, body: { name: 'x', credential: stale } }),
    );
    // The right challenge, but answered for another origin.
    const phished = authenticator.create(options.body, app.url, { origin: 'https://evil.example' });
    expectInvalid(
      await app.api('POST', '/api/passkeys/', { token: tokens.access, body: { name: 'x', credential: phished } }),
    );
    // The challenge is gone now, even for a correct answer.
    const late = authenticator.create(options.body, app.url);
    expectInvalid(
      await app.api('POST', '/api/passkeys/', { token: tokens.access, body: { name: 'x', credential: late } }),
    );
    // Another user's registration challenge does not work for me.
    const stranger = await app.login('stranger-reg@example.com');
    const theirs = await app.api<RegistrationOptionsJson>('POST', '/api/passkeys/registration-options/', {
      token: stranger.access,
    });
    const hijack = authenticator.create(theirs.body, app.url);
    expectInvalid(
      await app.api('POST', '/api/passkeys/', { token: tokens.access, body: { name: 'x', credential: hijack } }),
    );
  });
});

describe('signing in with a passkey', () => {
  it('issues the same session and tokens as a code login, listed with its method', async () => {
    const first = await app.login('sign-in@example.com');
    const authenticator = new SoftAuthenticator();
    await addPasskey(app, authenticator, first.access);
    const tokens = await passkeyLogin(app, authenticator);
    expect(tokens.user.id).toBe(first.user.id);
    expect((await app.api<{ id: string }>('GET', '/api/me/', { token: tokens.access })).body.id).toBe(first.user.id);
    const refreshed = await app.api<{ access: string }>('POST', '/api/token/refresh/', {
      body: { refresh: tokens.refresh },
    });
    expect(refreshed.status).toBe(200);

    const sessions = await app.api<{ results: Session[] }>('GET', '/api/sessions/', { token: refreshed.body.access });
    expect(sessions.body.results.map((s) => [s.method, s.current]).sort()).toEqual([
      ['otp', false],
      ['passkey', true],
    ]);
    expect(await auditActions(app, first.user.id)).toContain('passkey.used');
  });

  it('refuses a replayed assertion, a counter that went back, and answers to a login challenge that expired', async () => {
    const tokens = await app.login('replay@example.com');
    const authenticator = new SoftAuthenticator();
    const added = await addPasskey(app, authenticator, tokens.access);
    const before = await lastAuditId(app);

    const captured = await passkeyAssertion(app, authenticator);
    expect((await loginWith(app, captured)).status).toBe(200);
    expectInvalid(await loginWith(app, captured)); // the same assertion again

    // A fresh challenge signed with an old counter (a cloned authenticator).
    const options = await app.api<LoginOptionsJson>('POST', '/api/passkeys/login-options/');
    const cloned = authenticator.get(options.body, app.url, { counter: 1 });
    expectInvalid(await loginWith(app, cloned));

    // An expired challenge.
    const expiring = await app.api<LoginOptionsJson>('POST', '/api/passkeys/login-options/');
    await app.deps.db
      .updateTable('webauthn_challenges')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute();
    expectInvalid(await loginWith(app, authenticator.get(expiring.body, app.url)));

    // Each refusal is audit-logged with its reason, the passkey's owner as target, and nothing of the answer.
    const refused = await refusals(app, before);
    expect(refused.map((r) => [r.meta.reason, r.target_type, r.target_id, r.meta.passkey_id])).toEqual([
      ['stale_challenge', 'user', tokens.user.id, added.id],
      ['counter_went_back', 'user', tokens.user.id, added.id],
      ['stale_challenge', 'user', tokens.user.id, added.id],
    ]);
    for (const entry of refused) expectSmall(entry);
    expect(JSON.stringify(refused)).not.toContain(captured.response.signature);
    expect(JSON.stringify(refused)).not.toContain(captured.response.clientDataJSON);
  });

  it('refuses forged, foreign and malformed answers with a 400, never a 500', async () => {
    const tokens = await app.login('forged@example.com');
    const authenticator = new SoftAuthenticator();
    await addPasskey(app, authenticator, tokens.access);
    const before = await lastAuditId(app);
    const fresh = async () => (await app.api<LoginOptionsJson>('POST', '/api/passkeys/login-options/')).body;

    // Signed for another site.
    expectInvalid(
      await loginWith(
        app,
        authenticator.get(await fresh(), app.url, { clientData: { origin: 'https://evil.example' } }),
      ),
    );
    // A registration ceremony's type.
    expectInvalid(
      await loginWith(app, authenticator.get(await fresh(), app.url, { clientData: { type: 'webauthn.create' } })),
    );
    // A passkey this server never saw.
    const unknown = new SoftAuthenticator();
    unknown.create({ challenge: 'bm9uZQ', rp: {}, user: { id: 'dXNlcg' } }, app.url);
    expectInvalid(await loginWith(app, unknown.get(await fresh(), app.url)));
    // A signature that does not match.
    const good = authenticator.get(await fresh(), app.url);
    expectInvalid(
      await loginWith(app, {
        ...good,
        response: { ...good.response, signature: good.response.signature.split('').reverse().join('') },
      }),
    );
    // Not JSON inside, not base64url, missing fields.
    const junk = { ...good, response: { ...good.response, clientDataJSON: 'bm90LWpzb24' } };
    expectInvalid(await loginWith(app, junk));
    const malformed = await loginWith(app, { ...good, response: { clientDataJSON: '%%%' } });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('validation_error');

    // Audit-logged, all but the one refused by validation; the unknown passkey names no user.
    const refused = await refusals(app, before);
    expect(refused.map((r) => [r.meta.reason, r.target_id])).toEqual([
      ['not_verified', tokens.user.id],
      ['not_verified', tokens.user.id],
      ['unknown_credential', null],
      ['not_verified', tokens.user.id],
      ['malformed_client_data', tokens.user.id],
    ]);
    for (const entry of refused) expectSmall(entry);
  });

  it('a flood of refused answers runs into the per-IP passkey limit: 429, and the audit log stops growing', async () => {
    const tokens = await app.login('flood@example.com');
    const authenticator = new SoftAuthenticator();
    await addPasskey(app, authenticator, tokens.access);
    const captured = await passkeyAssertion(app, authenticator);
    expect((await loginWith(app, captured)).status).toBe(200);
    expectInvalid(await loginWith(app, captured));
    const ip = (await refusals(app)).at(-1)?.ip as string;
    expect(ip).toBeTruthy();

    // The same budget as login options (30 a minute per IP), spent only by refusals.
    await app.deps.limiters.passkeyPerIp.reset(ip);
    const before = await lastAuditId(app);
    const statuses: number[] = [];
    for (let i = 0; i < 34; i++) statuses.push((await loginWith(app, captured)).status);
    expect(statuses).toEqual([...Array(30).fill(400), ...Array(4).fill(429)]);
    expect(await refusals(app, before)).toHaveLength(30);
    // Out of points: no login options either, until the window has passed.
    expect((await app.api('POST', '/api/passkeys/login-options/')).status).toBe(429);
    await app.deps.limiters.passkeyPerIp.reset(ip);
  });

  it('a blocked user cannot sign in with a passkey', async () => {
    const tokens = await app.login('blocked-key@example.com');
    const authenticator = new SoftAuthenticator();
    await addPasskey(app, authenticator, tokens.access);
    await app.deps.db.updateTable('users').set({ is_active: false }).where('id', '=', tokens.user.id).execute();
    const before = await lastAuditId(app);
    const res = await loginWith(app, await passkeyAssertion(app, authenticator));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('account_blocked');
    expect((await refusals(app, before)).map((r) => [r.meta.reason, r.target_id])).toEqual([
      ['account_blocked', tokens.user.id],
    ]);
  });

  it('works through tRPC and the typed client', async () => {
    const tokens = await app.login('trpc-key@example.com');
    const authenticator = new SoftAuthenticator();
    const client = createTagdropClient({ url: app.url, token: tokens.access });
    const options = await client.passkeys.registrationOptions.mutate();
    const created = await client.passkeys.register.mutate({
      name: 'Phone',
      credential: authenticator.create(options, app.url),
    });
    expect((await client.passkeys.list.query()).results.map((p) => p.id)).toEqual([created.id]);

    const anonymous = createTagdropClient({ url: app.url });
    const loginOptions = await anonymous.passkeys.loginOptions.mutate();
    const signedIn = await anonymous.passkeys.login.mutate({ credential: authenticator.get(loginOptions, app.url) });
    expect(signedIn.user.id).toBe(tokens.user.id);
    const replay = await anonymous.passkeys.login
      .mutate({ credential: authenticator.get({ ...loginOptions }, app.url) })
      .catch((e) => e);
    expect(replay.data).toMatchObject({ code: 'invalid_passkey', httpStatus: 400 });
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await app.api<{ paths: Record<string, unknown> }>('GET', '/api/openapi.json');
    for (const path of [
      '/api/passkeys/',
      '/api/passkeys/{id}/',
      '/api/passkeys/registration-options/',
      '/api/passkeys/login-options/',
      '/api/passkeys/login/',
    ]) {
      expect(Object.keys(doc.body.paths)).toContain(path);
    }
  });
});

describe('ADMIN_REQUIRE_PASSKEY=true', () => {
  it('admin procedures answer passkey_required to a code session and work with a passkey session', async () => {
    await gated.deps.db.insertInto('users').values({ email: 'gated-admin@example.com', role: 'admin' }).execute();
    const otp = await gated.login('gated-admin@example.com');
    const byCode = createTagdropClient({ url: gated.url, token: otp.access });
    const refused = await byCode.admin.overview.query().catch((e) => e);
    expect(refused.data).toMatchObject({ code: 'passkey_required', httpStatus: 403 });
    // Nor does the code session carry admin power elsewhere: another user's private file stays hidden.
    const owner = await gated.login('owner@example.com');
    const form = new FormData();
    form.set('file', new Blob(['secret']), 'secret.txt');
    const upload = await fetch(`${gated.url}/api/files/`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${owner.access}` },
    });
    const { id } = (await upload.json()) as { id: string };
    expect((await gated.api('GET', `/api/files/${id}/`, { token: otp.access })).status).toBe(404);
    // It can still add a passkey (that is how an admin gets one), and the me object tells the role.
    expect((await gated.api<{ role: string }>('GET', '/api/me/', { token: otp.access })).body.role).toBe('admin');

    const authenticator = new SoftAuthenticator();
    await addPasskey(gated, authenticator, otp.access, 'Admin key');
    const byKey = await passkeyLogin(gated, authenticator);
    const admin = createTagdropClient({ url: gated.url, token: byKey.access });
    expect((await admin.admin.overview.query()).users.total).toBeGreaterThanOrEqual(2);
    expect((await gated.api('GET', `/api/files/${id}/`, { token: byKey.access })).status).toBe(200);
    // A refreshed token keeps the session's method.
    const refreshed = await gated.api<{ access: string }>('POST', '/api/token/refresh/', {
      body: { refresh: byKey.refresh },
    });
    const again = createTagdropClient({ url: gated.url, token: refreshed.body.access });
    expect((await again.admin.overview.query()).users.total).toBeGreaterThanOrEqual(2);
  });

  it('without it (the default) a code session is enough', async () => {
    await app.deps.db.insertInto('users').values({ email: 'plain-admin@example.com', role: 'admin' }).execute();
    const otp = await app.login('plain-admin@example.com');
    const client = createTagdropClient({ url: app.url, token: otp.access });
    expect((await client.admin.overview.query()).users.total).toBeGreaterThan(0);
  });
});
