import {
  detailOutput,
  logoutInput,
  refreshInput,
  refreshOutput,
  requestOtpInput,
  requestOtpOutput,
  sessionListOutput,
  userSchema,
  verifyOtpInput,
  verifyOtpLinkInput,
  verifyOtpOutput,
} from '@tagdrop/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppDeps } from '../../deps.types.js';
import { errorResponses } from '../../http/openapi.js';
import { optionalUser, requestMeta, requireUser } from '../../http/request.js';
import * as auth from './auth.service.js';

/** The Django service's auth paths, on the same services and schemas as tRPC. */
export const authRest =
  (deps: AppDeps): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/otp-login/',
      {
        schema: {
          tags: ['auth'],
          summary: 'Send a one-time login code by email or SMS',
          description: 'The answer is the same whether or not the person has an account.',
          body: requestOtpInput,
          response: { 200: requestOtpOutput, ...errorResponses(400, 429) },
        },
      },
      (req) => auth.requestOtp(deps, req.body, requestMeta(req)),
    );

    app.post(
      '/verify-otp/',
      {
        schema: {
          tags: ['auth'],
          summary: 'Exchange a one-time code for tokens',
          body: verifyOtpInput,
          response: { 200: verifyOtpOutput, ...errorResponses(400, 403, 429) },
        },
      },
      (req) => auth.verifyOtp(deps, req.body, requestMeta(req)),
    );

    app.post(
      '/otp-login/link/',
      {
        schema: {
          tags: ['auth'],
          summary: 'Exchange the sign-in link of a code message for tokens',
          description:
            'Every code message also carries a link `<PUBLIC_URL>/otp-login#token=<token>`; post its token here. ' +
            'It works once, while its code is open (it closes the code too). A wrong, used or expired token answers ' +
            '400 `invalid_link`. Limited per client IP only (30 bad links an hour), never per address.',
          body: verifyOtpLinkInput,
          response: { 200: verifyOtpOutput, ...errorResponses(400, 403, 429) },
        },
      },
      (req) => auth.verifyOtpLink(deps, req.body, requestMeta(req)),
    );

    app.post(
      '/token/refresh/',
      {
        schema: {
          tags: ['auth'],
          summary: 'Rotate a refresh token',
          description: 'Each refresh token works once. Presenting a used one ends the whole session.',
          body: refreshInput,
          response: { 200: refreshOutput, ...errorResponses(400, 401) },
        },
      },
      (req) => auth.refreshTokens(deps, req.body.refresh, requestMeta(req)),
    );

    app.post(
      '/logout/',
      {
        schema: {
          tags: ['auth'],
          summary: 'End the session (of the Bearer token, or of the refresh token in the body)',
          security: [{ bearer: [] }, {}],
          body: logoutInput.nullish(),
          response: { 200: detailOutput, ...errorResponses(401) },
        },
      },
      async (req) => {
        const user = await optionalUser(deps, req);
        return auth.logout(deps, { session: user, refresh: req.body?.refresh }, requestMeta(req));
      },
    );

    app.get(
      '/me/',
      {
        schema: {
          tags: ['auth'],
          summary: 'The logged-in user',
          security: [{ bearer: [] }],
          response: { 200: userSchema, ...errorResponses(401) },
        },
      },
      async (req) => auth.getMe(deps, (await requireUser(deps, req)).id),
    );

    app.get(
      '/sessions/',
      {
        schema: {
          tags: ['auth'],
          summary: 'Your open sessions',
          security: [{ bearer: [] }],
          response: { 200: sessionListOutput, ...errorResponses(401) },
        },
      },
      async (req) => ({ results: await auth.listSessions(deps, await requireUser(deps, req)) }),
    );
  };
