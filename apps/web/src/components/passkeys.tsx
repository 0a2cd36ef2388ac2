import { createPasskey, passkeyPromptError, passkeysSupported } from '@tagdrop/contracts/passkeys';
import { useMutation, useQueryClient, useSuspenseQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { formatDate } from '../lib/format';
import { errorMessage, trpc, trpcClient } from '../lib/trpc';

/** Settings: the person's passkeys (named, with their last use), add one, remove one. */
export function PasskeysPanel() {
  const { data } = useSuspenseQuery(trpc.passkeys.list.queryOptions());
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const ids = { title: useId(), name: useId() };
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.passkeys.list.queryKey() });

  const add = useMutation({
    mutationFn: (label: string) => createPasskey(trpcClient, label),
    onSuccess: async () => {
      setName('');
      await refresh();
    },
  });
  const remove = useMutation(trpc.passkeys.remove.mutationOptions({ onSuccess: refresh }));
  const onAdd = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) add.mutate(name.trim());
  };
  const failure = add.error ?? remove.error;

  return (
    <section className="panel" aria-labelledby={ids.title}>
      <h2 id={ids.title}>Passkeys</h2>
      <p className="muted small">
        Sign in with your screen lock (fingerprint, face or PIN) or a security key instead of a code: no address to
        type.
      </p>
      {data.results.length > 0 ? (
        <ul className="sessions" aria-label="Your passkeys">
          {data.results.map((p) => (
            <li key={p.id} className="session" data-testid="passkey">
              <div>
                <strong>{p.name}</strong>
                {p.device_type === 'multiDevice' ? <span className="badge public">Synced</span> : null}
                <p className="muted small">
                  added {formatDate(p.created_at)} ·{' '}
                  {p.last_used_at ? `last used ${formatDate(p.last_used_at)}` : 'never used'}
                </p>
              </div>
              <button
                type="button"
                className="small danger"
                disabled={remove.isPending}
                onClick={() => remove.mutate({ id: p.id })}
                aria-label={`Remove passkey ${p.name}`}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No passkeys yet.</p>
      )}
      {passkeysSupported() ? (
        <form className="row gap wrap" onSubmit={onAdd}>
          <label htmlFor={ids.name}>Passkey name</label>
          <input
            id={ids.name}
            value={name}
            maxLength={60}
            placeholder="e.g. Laptop"
            onChange={(e) => setName(e.target.value)}
            required
          />
          <button type="submit" disabled={add.isPending || !name.trim()}>
            {add.isPending ? 'Waiting for your device…' : 'Add a passkey'}
          </button>
        </form>
      ) : (
        <p className="muted small">This browser cannot use passkeys.</p>
      )}
      {failure ? (
        <p className="error" role="alert">
          {passkeyPromptError(failure) ?? errorMessage(failure)}
        </p>
      ) : null}
    </section>
  );
}
