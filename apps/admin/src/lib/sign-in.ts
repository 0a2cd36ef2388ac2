/** Finishing a console login, whatever began it (a code or a passkey): admins only, then back to the page asked for. */
import type { VerifyOtpOutput } from '@tagdrop/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { auth } from './auth';
import { meQuery } from './queries';

/** Returns a function that keeps an admin's tokens and opens the console, or ends a non-admin's session ('refused'). */
export function useFinishSignIn() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  return async (result: VerifyOtpOutput, redirectTo?: string): Promise<'signed-in' | 'refused'> => {
    if (result.user.role !== 'admin') {
      // A valid login, but not an admin: end that session at once and keep nothing.
      await auth.endSession(result.refresh);
      return 'refused';
    }
    auth.setTokens(result);
    queryClient.clear();
    queryClient.setQueryData(meQuery().queryKey, result.user);
    if (redirectTo) await navigate({ href: redirectTo, replace: true });
    else await navigate({ to: '/users', replace: true });
    return 'signed-in';
  };
}
