/**
 * Passkeys in a browser: add one for the person logged in, or sign in with one (WebAuthn through
 * @simplewebauthn/browser, talking to the `passkeys.*` procedures). Both Tagdrop SPAs use these.
 *
 * ```ts
 * const passkey = await createPasskey(client, 'Laptop'); // after a code login
 * const { access, refresh, user } = await signInWithPasskey(anonymousClient); // no address to type
 * ```
 */
import {
  browserSupportsWebAuthn,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from '@simplewebauthn/browser';
import type { TagdropClient } from './client.js';
import type { VerifyOtpOutput } from './schemas/auth.js';
import type { PasskeyDto } from './schemas/passkeys.js';

/** Any tRPC client of the Tagdrop API (the typed client, or an SPA's own). */
export type PasskeyClient = Pick<TagdropClient, 'passkeys'>;

/** Whether this browser can use passkeys at all. */
export function passkeysSupported(): boolean {
  return browserSupportsWebAuthn();
}

/** Asks the browser to create a passkey for the logged-in person and registers it under `name`. */
export async function createPasskey(client: PasskeyClient, name: string): Promise<PasskeyDto> {
  const optionsJSON = await client.passkeys.registrationOptions.mutate();
  const credential = await startRegistration({
    optionsJSON: optionsJSON as PublicKeyCredentialCreationOptionsJSON,
  });
  return client.passkeys.register.mutate({ name, credential });
}

/** Asks the browser for one of the site's passkeys and signs in with it: tokens and user, as a code login gives. */
export async function signInWithPasskey(client: PasskeyClient): Promise<VerifyOtpOutput> {
  const optionsJSON = await client.passkeys.loginOptions.mutate();
  const credential = await startAuthentication({
    optionsJSON: optionsJSON as PublicKeyCredentialRequestOptionsJSON,
  });
  return client.passkeys.login.mutate({ credential });
}

/** Stops a ceremony in progress (e.g. when the page is left). */
export function cancelPasskeyPrompt(): void {
  WebAuthnAbortService.cancelCeremony();
}

/**
 * A message fit to show for a ceremony the browser ended (cancelled, timed out, no passkey here), or undefined when
 * the error came from the server (show its own message then).
 */
export function passkeyPromptError(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  if (name === 'NotAllowedError' || name === 'AbortError') {
    return 'No passkey was used. The request was cancelled or timed out.';
  }
  if (name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
  if (name === 'SecurityError') return 'Passkeys need a secure address (https, or http://localhost).';
  if (name === 'NotSupportedError') return 'This browser or device cannot create passkeys.';
  if (name === 'WebAuthnError') return (err as Error).message;
  return undefined;
}
