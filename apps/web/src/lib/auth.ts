/** The user app's login session (shared implementation in @tagdrop/contracts/session). */
import { createBrowserSession } from '@tagdrop/contracts/session';

export const REFRESH_KEY = 'tagdrop.refresh';
export const auth = createBrowserSession({ storageKey: REFRESH_KEY });
