/**
 * The console with ADMIN_REQUIRE_PASSKEY=true, in Chromium with a virtual authenticator (CDP WebAuthn): an admin who
 * signs in with a code is guided to add a passkey and is then signed in with it; later visits sign in with the
 * passkey alone from the login page; a replayed assertion is refused with 400 invalid_passkey; a code session
 * never does admin work.
 */
import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addVirtualAuthenticator,
  localhostEnv,
  loginThroughUi,
  SHOTS,
  type Stack,
  startStack,
  uniqueEmail,
  watchCsp,
} from './support.js';

let stack: Stack;
let origin: string;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const local = await localhostEnv();
  origin = local.origin;
  stack = await startStack({ ...local.env, ADMIN_REQUIRE_PASSKEY: 'true' });
  context = await stack.browser.newContext({ baseURL: origin, viewport: { width: 1366, height: 860 } });
  page = await context.newPage();
});
afterAll(async () => {
  await context?.close();
  await stack?.stop();
});

/** The methods of the admin's open sessions, as the database holds them. */
const openSessions = async (userId: string) =>
  (
    await stack.deps.db
      .selectFrom('sessions')
      .select('method')
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute()
  ).map((s) => s.method);

describe('ADMIN_REQUIRE_PASSKEY=true in the console', () => {
  it('guides an admin who signed in with a code to add a passkey, then works with the passkey session', async () => {
    const csp = await watchCsp(page);
    const authenticator = await addVirtualAuthenticator(context, page);
    const email = uniqueEmail('gated');
    const id = await stack.createUser(email, 'admin');

    await page.goto('/admin/users');
    await page.waitForURL(/\/admin\/login/);
    await loginThroughUi(page, stack, email);
    await page.waitForURL(/\/admin\/passkey/);
    await page.getByRole('heading', { name: 'Passkey required' }).waitFor();
    // The code session may not do admin work, whatever the page asks.
    const code = await stack.login(email);
    const refused = await fetch(`${stack.url}/trpc/admin.overview`, {
      headers: { authorization: `Bearer ${code.access}` },
    });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(await refused.json())).toContain('passkey_required');
    await page.screenshot({ path: `${SHOTS}/passkey-required.png`, fullPage: true });

    await page.getByLabel('Passkey name').fill('Console laptop');
    await page.getByRole('button', { name: 'Add a passkey and continue' }).click();
    await page.waitForURL(/\/admin\/users$/);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await expect.poll(() => page.getByRole('rowheader', { name: email }).count()).toBe(1);
    expect(await authenticator.credentials()).toHaveLength(1);
    // The console's code session ended; its passkey session (and the REST login above) remain.
    expect((await openSessions(id)).sort()).toEqual(['otp', 'passkey']);
    expect(await csp.violations()).toEqual([]);
  });

  it('signs in with the passkey alone from the login page, and refuses that assertion replayed', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/admin\/login/);
    const loginRequest = page.waitForRequest(
      (r) => new URL(r.url()).pathname.endsWith('/trpc/passkeys.login') && r.method() === 'POST',
    );
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(/\/admin\/users$/);
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.screenshot({ path: `${SHOTS}/passkey-signed-in.png`, fullPage: true });

    // The same signed assertion sent again (as an eavesdropper would): refused, no session.
    const sent = await loginRequest;
    const replay = await fetch(sent.url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: sent.postData() ?? '',
    });
    const replayText = await replay.clone().text();
    expect(replay.status, `${sent.url()} ${replayText}`).toBe(400);
    expect(JSON.stringify(await replay.json())).toContain('invalid_passkey');
  });

  it('a browser without the passkey stays on the login page with a message', async () => {
    const other = await stack.browser.newContext({ baseURL: origin });
    try {
      const p = await other.newPage();
      await addVirtualAuthenticator(other, p); // an authenticator that holds no passkey for this site
      await p.goto('/admin/login');
      await p.getByRole('button', { name: 'Sign in with a passkey' }).click();
      const alert = p.getByRole('alert');
      await alert.waitFor({ timeout: 30_000 });
      expect(await alert.textContent()).toMatch(/no passkey|cancelled|timed out/i);
      expect(p.url()).toMatch(/\/admin\/login/);
    } finally {
      await other.close();
    }
  });
});
