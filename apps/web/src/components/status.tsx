import { useQueryErrorResetBoundary } from '@tanstack/react-query';
import { type ErrorComponentProps, Link, useRouter } from '@tanstack/react-router';
import { useEffect } from 'react';
import { errorCode, errorMessage } from '../lib/trpc';

export function Pending() {
  return (
    <div className="pending" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading…
    </div>
  );
}

export function ErrorView({ error, reset }: ErrorComponentProps) {
  const router = useRouter();
  const { reset: resetQueries } = useQueryErrorResetBoundary();
  useEffect(() => {
    resetQueries();
  }, [resetQueries]);
  const code = errorCode(error);
  if (code === 'not_found') return <NotFound />;
  if (code === 'gone') {
    // 410: the file expired, or its link had all the downloads it allows.
    const used = /download limit/i.test(errorMessage(error));
    return (
      <div className="panel notice" role="alert">
        <h1>{used ? 'No downloads left' : 'Expired'}</h1>
        <p>
          {used
            ? 'This file had all the downloads its link allows and is no longer available.'
            : 'This file has expired and is no longer available.'}{' '}
          Ask the person who shared it for a new link.
        </p>
        <Link to="/">Browse public files</Link>
      </div>
    );
  }
  return (
    <div className="panel notice" role="alert">
      <h1>Something went wrong</h1>
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
    <div className="panel notice" role="alert">
      <h1>Not found</h1>
      <p>There is nothing here, or it is not yours to see.</p>
      <Link to="/">Go to the gallery</Link>
    </div>
  );
}
