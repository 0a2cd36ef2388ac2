import { parseArgs } from 'node:util';
import { audit } from '../infra/audit.js';
import { normalizeEmail, normalizePhone } from '../modules/auth/identifier.js';
import { runCli } from './common.js';

/** `npm run admin:create -- --email a@b.c` (or `--phone +15551234567`): creates or promotes an admin. */
await runCli(async (deps, argv) => {
  const { values } = parseArgs({ args: argv, options: { email: { type: 'string' }, phone: { type: 'string' } } });
  if (Boolean(values.email) === Boolean(values.phone)) {
    throw new Error('usage: npm run admin:create -- --email you@example.com   (or --phone +15551234567)');
  }
  const field = values.email ? 'email' : 'phone';
  const value = values.email
    ? normalizeEmail(values.email)
    : normalizePhone(values.phone as string, deps.config.DEFAULT_PHONE_REGION);
  const user = await deps.db
    .insertInto('users')
    .values({ [field]: value, role: 'admin' })
    .onConflict((oc) => oc.column(field).doUpdateSet({ role: 'admin', is_active: true, updated_at: new Date() }))
    .returning(['id', 'role'])
    .executeTakeFirstOrThrow();
  await audit(deps.db, { actorId: null, action: 'admin.created_by_cli', targetType: 'user', targetId: user.id });
  console.log(`${value} is an admin (user ${user.id}). Log in with a one-time code sent to that ${field}.`);
});
