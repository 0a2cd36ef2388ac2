import { passkeyPromptError, passkeysSupported, signInWithPasskey } from '@tagdrop/contracts/passkeys';
import { useMutation } from '@tanstack/react-query';
import { createFileRoute, redirect } from '@tanstack/react-router';
import { type FormEvent, useId, useRef, useState } from 'react';
import { auth } from '../lib/auth';
import { useFinishSignIn } from '../lib/sign-in';
import { errorMessage, trpc, trpcClient } from '../lib/trpc';

type Reason = 'admins-only' | 'ended' | 'passkey-required';
const REASONS: readonly Reason[] = ['admins-only', 'ended', 'passkey-required'];

interface LoginSearch {
  redirect?: string;
  reason?: Reason;
}

const reasons: Record<Reason, string> = {
  'admins-only': 'This console is for admins only. You have been logged out.',
  ended: 'Your session has ended. Log in again.',
  'passkey-required': 'This console accepts only sessions that began with a passkey. Sign in with your passkey.',
};

/** Only same-app paths: never an open redirect. */
const safePath = (value: unknown) =>
  typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : undefined;

export const Route = createFileRoute('/login')({
  validateSearch: (search: Record<string, unknown>): LoginSearch => ({
    redirect: safePath(search.redirect),
    reason: REASONS.find((r) => r === search.reason),
  }),
  beforeLoad: ({ search }) => {
    if (auth.hasSession() && !search.reason) throw redirect({ to: '/users' });
  },
  component: LoginPage,
});

type Channel = 'email' | 'phone';

function LoginPage() {
  const search = Route.useSearch();
  const finishSignIn = useFinishSignIn();
  const [channel, setChannel] = useState<Channel>('email');
  const [identifier, setIdentifier] = useState('');
  const [code, setCode] = useState('');
  const [step, setStep] = useState<'identify' | 'code'>('identify');
  const [refused, setRefused] = useState(false);
  const codeInput = useRef<HTMLInputElement>(null);
  const ids = { identifier: useId(), code: useId(), hint: useId() };

  const who = () => (channel === 'email' ? { email: identifier } : { phone: identifier });

  const request = useMutation(
    trpc.auth.requestOtp.mutationOptions({
      onSuccess: () => {
        setStep('code');
        setRefused(false);
        queueMicrotask(() => codeInput.current?.focus());
      },
    }),
  );
  const finish = async (result: Parameters<typeof finishSignIn>[0]) => {
    if ((await finishSignIn(result, search.redirect)) === 'refused') {
      setRefused(true);
      setStep('identify');
      setCode('');
    }
  };
  const verify = useMutation(trpc.auth.verifyOtp.mutationOptions({ onSuccess: finish }));
  const passkey = useMutation({ mutationFn: () => signInWithPasskey(trpcClient), onSuccess: finish });

  const onIdentify = (event: FormEvent) => {
    event.preventDefault();
    verify.reset();
    passkey.reset();
    request.mutate(who());
  };
  const onVerify = (event: FormEvent) => {
    event.preventDefault();
    verify.mutate({ ...who(), otp: code.trim() });
  };

  const notice = refused ? reasons['admins-only'] : search.reason ? reasons[search.reason] : null;
  const error = request.error ?? verify.error ?? passkey.error;
  const shown = error ? (passkeyPromptError(error) ?? errorMessage(error)) : null;

  return (
    <main id="main" className="login">
      <div className="login-card">
        <h1>
          <span className="brand-mark" aria-hidden="true" />
          Tagdrop admin
        </h1>
        {notice && (
          <p className="notice warn" role="alert">
            {notice}
          </p>
        )}
        {step === 'identify' ? (
          <form onSubmit={onIdentify} noValidate>
            <fieldset className="segmented">
              <legend>Send the login code by</legend>
              {(['email', 'phone'] as const).map((c) => (
                <label key={c}>
                  <input
                    type="radio"
                    name="channel"
                    value={c}
                    checked={channel === c}
                    onChange={() => {
                      setChannel(c);
                      setIdentifier('');
                    }}
                  />
                  {c === 'email' ? 'Email' : 'SMS'}
                </label>
              ))}
            </fieldset>
            <label htmlFor={ids.identifier}>{channel === 'email' ? 'Email address' : 'Phone number'}</label>
            <input
              id={ids.identifier}
              name={channel}
              type={channel === 'email' ? 'email' : 'tel'}
              autoComplete={channel === 'email' ? 'email' : 'tel'}
              placeholder={channel === 'email' ? 'admin@example.com' : '+14155552671'}
              required
              value={identifier}
              onChange={(e) => setIdentifier(e.target.value)}
            />
            {shown && (
              <p className="field-error" role="alert">
                {shown}
              </p>
            )}
            <button type="submit" className="primary" disabled={request.isPending || !identifier.trim()}>
              {request.isPending ? 'Sending…' : 'Send code'}
            </button>
            {passkeysSupported() && (
              <div className="passkey-login">
                <p className="muted">Or, without typing an address:</p>
                <button
                  type="button"
                  disabled={passkey.isPending}
                  onClick={() => {
                    request.reset();
                    passkey.mutate();
                  }}
                >
                  {passkey.isPending ? 'Waiting for your passkey…' : 'Sign in with a passkey'}
                </button>
              </div>
            )}
          </form>
        ) : (
          <form onSubmit={onVerify} noValidate>
            <p id={ids.hint} className="muted">
              We sent a 6-digit code to <strong>{identifier}</strong>. It works once and expires in a few minutes.
            </p>
            <label htmlFor={ids.code}>Login code</label>
            <input
              id={ids.code}
              ref={codeInput}
              name="otp"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="\d{6}"
              maxLength={6}
              required
              aria-describedby={ids.hint}
              value={code}
              onChange={(e) => setCode(e.target.value.replace(/\D/g, ''))}
            />
            {shown && (
              <p className="field-error" role="alert">
                {shown}
              </p>
            )}
            <button type="submit" className="primary" disabled={verify.isPending || code.length !== 6}>
              {verify.isPending ? 'Checking…' : 'Log in'}
            </button>
            <button
              type="button"
              className="link"
              onClick={() => {
                setStep('identify');
                setCode('');
                verify.reset();
              }}
            >
              Use another address
            </button>
          </form>
        )}
      </div>
    </main>
  );
}
