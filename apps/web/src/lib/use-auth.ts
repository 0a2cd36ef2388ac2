import { useSyncExternalStore } from 'react';
import { auth } from './auth';

/** Re-renders when the person logs in or out (in this tab or another). */
export function useLoggedIn(): boolean {
  return useSyncExternalStore(auth.subscribe, auth.hasSession, () => false);
}
