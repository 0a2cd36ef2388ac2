import {
  detailOutput,
  passkeyIdInput,
  passkeyListOutput,
  passkeyLoginInput,
  passkeyLoginOptionsSchema,
  passkeyRegisterInput,
  passkeyRegistrationOptionsSchema,
  passkeyRenameInput,
  passkeySchema,
  verifyOtpOutput,
} from '@tagdrop/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../deps.types.js';
import { errorResponses } from '../../http/openapi.js';
import { requestMeta, requireUser } from '../../http/request.js';
import * as passkeys from './passkeys.service.js';

const bearer = [{ bearer: [] }];

/** /api/passkeys/…: the same services and schemas as the tRPC `passkeys` procedures. */
export const passkeysRest =
  (deps: AppDeps): FastifyPluginAsyncZod =>
  async (app) => {
    const rp = () => passkeys.relyingParty(deps.baseUrl);

    app.post(
      '/passkeys/registration-options/',
      {
        schema: {
          tags: ['passkeys'],
          summary: 'Start adding a passkey (options for navigator.credentials.create / startRegistration)',
          security: bearer,
          response: { 200: passkeyRegistrationOptionsSchema, ...errorResponses(401, 409) },
        },
      },
      async (req) => passkeys.registrationOptions(deps, await requireUser(deps, req), rp()),
    );

    app.post(
      '/passkeys/',
      {
        schema: {
          tags: ['passkeys'],
          summary: 'Add a passkey: the browser’s answer to the registration options, and a name',
          security: bearer,
          body: passkeyRegisterInput,
          response: { 201: passkeySchema, ...errorResponses(400, 401) },
        },
      },
      async (req, reply) => {
        const user = await requireUser(deps, req);
        const created = await passkeys.registerPasskey(deps, user, req.body, rp(), requestMeta(req));
        return reply.code(201).send(created);
      },
    );

    app.get(
      '/passkeys/',
      {
        schema: {
          tags: ['passkeys'],
          summary: 'Your passkeys, with their last use',
          security: bearer,
          response: { 200: passkeyListOutput, ...errorResponses(401) },
        },
      },
      async (req) => ({ results: await passkeys.listOwnPasskeys(deps, await requireUser(deps, req)) }),
    );

    app.patch(
      '/passkeys/:id/',
      {
        schema: {
          tags: ['passkeys'],
          summary: 'Rename a passkey',
          security: bearer,
          params: passkeyIdInput,
          body: passkeyRenameInput.pick({ name: true }),
          response: { 200: passkeySchema, ...errorResponses(400, 401, 404) },
        },
      },
      async (req) =>
        passkeys.renamePasskey(
          deps,
          await requireUser(deps, req),
          { id: req.params.id, name: req.body.name },
          requestMeta(req),
        ),
    );

    app.delete(
      '/passkeys/:id/',
      {
        schema: {
          tags: ['passkeys'],
          summary: 'Remove a passkey',
          security: bearer,
          params: passkeyIdInput,
          response: { 200: detailOutput, ...errorResponses(401, 404) },
        },
      },
      async (req) => passkeys.removePasskey(deps, await requireUser(deps, req), req.params.id, requestMeta(req)),
    );

    app.post(
      '/passkeys/login-options/',
      {
        schema: {
          tags: ['passkeys'],
          summary: 'Start signing in with a passkey (options for navigator.credentials.get / startAuthentication)',
          description: 'No address needed: the authenticator offers the passkeys it holds for this site.',
          response: { 200: passkeyLoginOptionsSchema, ...errorResponses(429) },
        },
      },
      async (req) => passkeys.loginOptions(deps, rp(), requestMeta(req)),
    );

    app.post(
      '/passkeys/login/',
      {
        schema: {
          tags: ['passkeys'],
          summary: 'Sign in with a passkey: the same tokens as /api/verify-otp/',
          description:
            'Refused answers are audit-logged and take from the same per-IP budget as the login options (429 when spent).',
          body: passkeyLoginInput,
          response: { 200: verifyOtpOutput, ...errorResponses(400, 403, 429) },
        },
      },
      async (req) => passkeys.loginWithPasskey(deps, req.body, rp(), requestMeta(req)),
    );
  };
