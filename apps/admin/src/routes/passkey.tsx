import { createPasskey, passkeyPromptError, passkeysSupported, signInWithPasskey } from '@tagdrop/contracts/passkeys';
import { useMutation } from '@tanstack/react-query';
import { createFileRoute, redirect, useNavigate } from '@tanstack/react-router';
import { type FormEvent, useId, useState } from 'react';
import { auth } from '../lib/auth';
import { useFinishSignIn } from '../lib/sign-in';
import { errorMessage, trpcClient } from '../lib/trpc';

/** Only same-app paths: never an open redirect. */
const safePath = (value: unknown) =>
  typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : undefined;

/**
 * ADMIN_REQUIRE_PASSKEY: an admin signed in with a code lands here. They add a passkey to their account (a code
 * session may do that), then the console signs them in with it; their code session ends.
 */
export const Route = createFileRoute('/passkey')({
  validateSearch: (search: Record<string, unknown>): { redirect?: string } => ({ redirect: safePath(search.redirect) }),
  beforeLoad: () => {
    if (!auth.hasSession()) throw redirect({ to: '/login' });
  },
  component: PasskeyRequired,
});

function PasskeyRequired() {
  const search = Route.useSearch();
  const navigate = useNavigate();
  const finishSignIn = useFinishSignIn();
  const ids = { name: useId() };
  const [name, setName] = useState('Admin console');

  const signIn = async () => {
    const result = await signInWithPasskey(trpcClient);
    // The code session has done its part: end it, then keep the passkey session.
    await auth.logout();
    if ((await finishSignIn(result, search.redirect)) === 'refused') {
      await navigate({ to: '/login', search: { reason: 'admins-only' } });
    }
  };
  const add = useMutation({
    mutationFn: async () => {
      await createPasskey(trpcClient, name.trim());
      await signIn();
    },
  });
  const useExisting = useMutation({ mutationFn: signIn });
  const error = add.error ?? useExisting.error;
  const busy = add.isPending || useExisting.isPending;

  const onAdd = (event: FormEvent) => {
    event.preventDefault();
    useExisting.reset();
    add.mutate();
  };

  return (
    <main id="main" className="login">
      <div className="login-card">
        <h1>
          <span className="brand-mark" aria-hidden="true" />
          Passkey required
        </h1>
        <p>
          This instance lets admins work only in a session that began with a passkey. You signed in with a one-time
          code: add a passkey to your account now (this device will hold it), and the console signs you in with it.
        </p>
        {passkeysSupported() ? (
          <form onSubmit={onAdd} noValidate>
            <label htmlFor={ids.name}>Passkey name</label>
            <input id={ids.name} maxLength={100} required value={name} onChange={(e) => setName(e.target.value)} />
            {error && (
              <p className="field-error" role="alert">
                {passkeyPromptError(error) ?? errorMessage(error)}
              </p>
            )}
            <button type="submit" className="primary" disabled={busy || !name.trim()}>
              {add.isPending ? 'Waiting for your passkey…' : 'Add a passkey and continue'}
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() => {
                add.reset();
                useExisting.mutate();
              }}
            >
              {useExisting.isPending ? 'Waiting for your passkey…' : 'I have a passkey: sign in with it'}
            </button>
          </form>
        ) : (
          <p className="notice warn" role="alert">
            This browser cannot use passkeys. Open the console in a browser that can (or on a device with a passkey).
          </p>
        )}
        <button
          type="button"
          className="link"
          onClick={async () => {
            await auth.logout();
            await navigate({ to: '/login' });
          }}
        >
          Log out
        </button>
      </div>
    </main>
  );
}
