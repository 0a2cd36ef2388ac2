import { useQueryErrorResetBoundary } from '@tanstack/react-query';
import { type ErrorComponentProps, Link, useRouter } from '@tanstack/react-router';
import { useEffect } from 'react';
import { errorMessage } from '../lib/trpc';

export function Pending() {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading…
    </p>
  );
}

export function ErrorView({ error, reset }: ErrorComponentProps) {
  const router = useRouter();
  const boundary = useQueryErrorResetBoundary();
  useEffect(() => boundary.reset(), [boundary]);
  return (
    <div className="notice error" role="alert">
      <p>{errorMessage(error)}</p>
      <button
        type="button"
        onClick={() => {
          reset();
          void router.invalidate();
        }}
      >
        Try again
      </button>
    </div>
  );
}

export function NotFound() {
  return (
    <div className="notice">
      <p>There is no such page in the admin console.</p>
      <Link to="/users">Go to users</Link>
    </div>
  );
}

/** An address that matches no route at all: a page of its own (the console layout is not around it). */
export function RootNotFound() {
  return (
    <main id="main" className="login">
      <div className="login-card">
        <h1>
          <span className="brand-mark" aria-hidden="true" />
          Page not found
        </h1>
        <NotFound />
      </div>
    </main>
  );
}

/** A polite live region for the outcome of an action. */
export function Flash({ message, tone = 'ok' }: { message: string | null; tone?: 'ok' | 'error' }) {
  return (
    <p
      className={`flash ${tone} ${message ? '' : 'empty'}`}
      role={tone === 'error' ? 'alert' : 'status'}
      aria-live="polite"
    >
      {message}
    </p>
  );
}
