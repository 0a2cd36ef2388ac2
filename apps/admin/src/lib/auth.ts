/** The admin console's login session, under its own key (never shared with the user app). */
import { createBrowserSession } from '@tagdrop/contracts/session';

export const REFRESH_KEY = 'tagdrop-admin-refresh';
export const auth = createBrowserSession({ storageKey: REFRESH_KEY });
