import type { VerifyOtpOutput } from '@tagdrop/contracts';
import { passkeyPromptError, passkeysSupported, signInWithPasskey } from '@tagdrop/contracts/passkeys';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { createFileRoute, useRouter } from '@tanstack/react-router';
import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { auth } from '../lib/auth';
import { errorCode, errorMessage, trpc, trpcClient } from '../lib/trpc';

const RESEND_COOLDOWN_S = 30;
/**
 * A 429 on asking for a code: this address (or this network) asked too often lately, maybe not by you. Every message
 * sent meanwhile carries a sign-in link that works for 15 minutes from its request, whatever became of its code.
 */
const CODE_REQUESTS_LIMITED =
  'Too many codes were asked for lately, so no new one can be sent right now. If you received a login message in ' +
  'the last 15 minutes, open the sign-in link in the latest one: it still works. Otherwise try again later.';

function errorText(error: unknown, requestError: unknown): string {
  if (error === requestError && errorCode(error) === 'rate_limited') return CODE_REQUESTS_LIMITED;
  return passkeyPromptError(error) ?? errorMessage(error);
}

type Channel = 'email' | 'phone';

/** Only same-origin paths are followed after login. */
function safeRedirect(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : undefined;
}

export const Route = createFileRoute('/otp-login')({
  validateSearch: (search: Record<string, unknown>): { redirect?: string } => {
    const redirect = safeRedirect(search.redirect);
    return redirect ? { redirect } : {};
  },
  component: OtpLogin,
});

function OtpLogin() {
  const { redirect } = Route.useSearch();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [channel, setChannel] = useState<Channel>('email');
  const [value, setValue] = useState('');
  const [step, setStep] = useState<'identify' | 'code'>('identify');
  const [code, setCode] = useState('');
  const [cooldown, setCooldown] = useState(0);
  const codeRef = useRef<HTMLInputElement>(null);
  const ids = { tabs: useId(), ident: useId(), code: useId(), err: useId() };

  const identifier = () => (channel === 'email' ? { email: value.trim() } : { phone: value.trim() });

  const request = useMutation(
    trpc.auth.requestOtp.mutationOptions({
      onSuccess: () => {
        setStep('code');
        setCode('');
        setCooldown(RESEND_COOLDOWN_S);
      },
    }),
  );
  const signedIn = async (data: VerifyOtpOutput) => {
    auth.setTokens(data);
    queryClient.setQueryData(trpc.auth.me.queryKey(), data.user);
    await router.navigate({ href: redirect ?? '/files', replace: true });
  };
  const passkey = useMutation({ mutationFn: () => signInWithPasskey(trpcClient), onSuccess: signedIn });
  const verify = useMutation(
    trpc.auth.verifyOtp.mutationOptions({
      onSuccess: signedIn,
      onError: () => {
        setCode('');
        codeRef.current?.focus();
      },
    }),
  );

  // A sign-in link from a code message: /otp-login#token=<token>. The token sits in the fragment, so no GET ever
  // carries it (proxies, logs and link scanners never see it); it is posted once, then removed from the address bar.
  // Taken on arrival, and when a link is opened in this very tab (only the fragment changes: no new page load).
  const link = useMutation(trpc.auth.verifyOtpLink.mutationOptions({ onSuccess: signedIn }));
  const linkStarted = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: set up once, on arrival
  useEffect(() => {
    const take = () => {
      const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
      if (!token) return;
      window.history.replaceState(window.history.state, '', window.location.pathname + window.location.search);
      request.reset();
      link.mutate({ token });
    };
    if (!linkStarted.current) {
      linkStarted.current = true;
      take();
    }
    window.addEventListener('hashchange', take);
    return () => window.removeEventListener('hashchange', take);
  }, []);

  useEffect(() => {
    if (cooldown <= 0) return;
    const t = setTimeout(() => setCooldown((c) => c - 1), 1000);
    return () => clearTimeout(t);
  }, [cooldown]);

  useEffect(() => {
    if (step === 'code') codeRef.current?.focus();
  }, [step]);

  const onIdentify = (e: FormEvent) => {
    e.preventDefault();
    verify.reset();
    link.reset();
    request.mutate(identifier());
  };
  const onVerify = (e: FormEvent) => {
    e.preventDefault();
    if (code.length !== 6) return;
    verify.mutate({ ...identifier(), otp: code });
  };

  const error = step === 'identify' ? (request.error ?? passkey.error ?? link.error) : (verify.error ?? request.error);

  return (
    <section className="panel narrow auth-card" aria-labelledby="login-title">
      <h1 id="login-title">Log in</h1>
      {step === 'identify' ? (
        <>
          <p className="muted">We'll send you a one-time code. No password needed.</p>
          {link.isPending || link.isSuccess ? (
            <p className="muted" role="status">
              Signing you in with your link…
            </p>
          ) : null}
          <div className="tabs" role="tablist" aria-label="Log in with">
            {(['email', 'phone'] as const).map((c) => (
              <button
                key={c}
                type="button"
                role="tab"
                id={`${ids.tabs}-${c}`}
                aria-selected={channel === c}
                aria-controls={`${ids.tabs}-panel`}
                className={channel === c ? 'tab active' : 'tab'}
                onClick={() => {
                  setChannel(c);
                  setValue('');
                  request.reset();
                }}
              >
                {c === 'email' ? 'Email' : 'Phone'}
              </button>
            ))}
          </div>
          <form
            id={`${ids.tabs}-panel`}
            role="tabpanel"
            aria-labelledby={`${ids.tabs}-${channel}`}
            onSubmit={onIdentify}
            className="stack"
          >
            <label htmlFor={ids.ident}>{channel === 'email' ? 'Email address' : 'Phone number'}</label>
            <input
              id={ids.ident}
              name={channel}
              type={channel === 'email' ? 'email' : 'tel'}
              autoComplete={channel === 'email' ? 'email' : 'tel'}
              placeholder={channel === 'email' ? 'you@example.com' : '+15551234567'}
              required
              value={value}
              onChange={(e) => setValue(e.target.value)}
              aria-invalid={request.isError || undefined}
              aria-describedby={request.isError ? ids.err : undefined}
            />
            <button type="submit" disabled={request.isPending || !value.trim()}>
              {request.isPending ? 'Sending…' : 'Send code'}
            </button>
          </form>
          {passkeysSupported() ? (
            <div className="stack passkey-login">
              <p className="muted small or">or</p>
              <button
                type="button"
                className="secondary"
                disabled={passkey.isPending}
                onClick={() => {
                  request.reset();
                  passkey.mutate();
                }}
              >
                {passkey.isPending ? 'Waiting for your passkey…' : 'Sign in with a passkey'}
              </button>
            </div>
          ) : null}
        </>
      ) : (
        <form onSubmit={onVerify} className="stack">
          <p>
            We sent a 6-digit code to <strong>{value.trim()}</strong>.
          </p>
          <label htmlFor={ids.code}>Code</label>
          <input
            ref={codeRef}
            id={ids.code}
            name="otp"
            className="otp-input"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="\d{6}"
            maxLength={6}
            placeholder="123456"
            required
            value={code}
            onChange={(e) => {
              const digits = e.target.value.replace(/\D/g, '').slice(0, 6);
              setCode(digits);
              if (verify.isError) verify.reset();
            }}
            aria-invalid={verify.isError || undefined}
            aria-describedby={verify.isError ? ids.err : undefined}
          />
          <button type="submit" disabled={verify.isPending || code.length !== 6}>
            {verify.isPending ? 'Checking…' : 'Log in'}
          </button>
          <div className="row between">
            <button
              type="button"
              className="link"
              onClick={() => {
                setStep('identify');
                request.reset();
                verify.reset();
              }}
            >
              Use a different {channel === 'email' ? 'email' : 'number'}
            </button>
            <button
              type="button"
              className="link"
              disabled={cooldown > 0 || request.isPending}
              onClick={() => {
                verify.reset();
                request.mutate(identifier());
              }}
            >
              {cooldown > 0 ? `Resend code in ${cooldown}s` : 'Resend code'}
            </button>
          </div>
          {request.isSuccess && !verify.isError ? (
            <p className="muted small" role="status">
              {request.data.detail}
            </p>
          ) : null}
        </form>
      )}
      {error ? (
        <p id={ids.err} className="error" role="alert">
          {errorText(error, request.error)}
        </p>
      ) : null}
    </section>
  );
}
