/**
 * The download routes in the OpenAPI document: /f/{id} and /s/{token}, their thumbnails and their PDF viewer pages.
 * They answer bytes (a stream, a buffer, an SVG placeholder, or a redirect), so the routes themselves carry no
 * response schema: Fastify would compile a serializer for it (http/serializer.ts) and run every body through it.
 * They are described here instead and added to the document as it is built (server.ts), outside the routes.
 */
type Json = Record<string, unknown>;

const ERROR = { $ref: '#/components/schemas/Error' };
const text = (description: string) => ({ description, schema: { type: 'string' } });
const binary = { type: 'string', format: 'binary' };

/** An error answer: the usual error body, with the codes this route may send. */
const error = (description: string, codes: string[]) => ({
  description: `${description} (\`error.code\`: ${codes.map((c) => `\`${c}\``).join(', ')}).`,
  headers: { 'Cache-Control': text('`no-store`.') },
  content: { 'application/json': { schema: ERROR } },
});

/** Headers every answer carrying user content has. */
const userContentHeaders = {
  'X-Content-Type-Options': text('`nosniff`: the type is never guessed from the bytes.'),
  'Content-Security-Policy': text(
    "`sandbox; frame-ancestors 'none'`: user content runs nothing and is never framed (the PDF viewer pages: " +
      "`default-src 'none'; sandbox; frame-ancestors 'self'`, framed by this site only).",
  ),
};

const contentHeaders = {
  'Content-Type': text("The file's type as sniffed at upload (`text/plain; charset=utf-8` for text)."),
  'Content-Length': { description: 'Bytes in this answer.', schema: { type: 'integer', minimum: 0 } },
  'Content-Disposition': text(
    'RFC 6266, with the file name (`filename*` in UTF-8): `inline` for types a browser shows safely (images, ' +
      'audio, video, PDF, plain text), `attachment` for everything else (HTML and SVG included).',
  ),
  ETag: text('`"<sha256>"` of the content.'),
  'Last-Modified': text('When the file last changed.'),
  'Accept-Ranges': text(
    '`bytes`. Absent on a file with a download limit (for anyone but its owner or an admin): it is always sent ' +
      'whole and a Range header is ignored.',
  ),
  'Cache-Control': text('`public, no-cache` (public files) or `private, no-cache`: revalidate with If-None-Match.'),
  ...userContentHeaders,
};

const rangeParameters = [
  {
    name: 'Range',
    in: 'header',
    required: false,
    description:
      'One byte range (`bytes=0-1023`, `bytes=1024-`, `bytes=-500`): 206 with that part. Several ranges, or a unit ' +
      'other than bytes, get the whole file. Ignored for a file with a download limit (sent whole).',
    schema: { type: 'string', examples: ['bytes=0-1023'] },
  },
  {
    name: 'If-None-Match',
    in: 'header',
    required: false,
    description: 'The ETag already held: 304 when the content is unchanged.',
    schema: { type: 'string' },
  },
];

const fileId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'The file id.',
  schema: { type: 'string', format: 'uuid' },
};
const shareToken = {
  name: 'token',
  in: 'path',
  required: true,
  description: "The secret token of a private link (the end of the file object's `share_url`).",
  schema: { type: 'string' },
};
const grant = (scopes: string) => ({
  name: 'grant',
  in: 'query',
  required: false,
  description:
    `A short-lived signed grant to this file (${scopes}), as in URLs the API hands out: opens a private file ` +
    'without an Authorization header.',
  schema: { type: 'string' },
});
const unlock = {
  name: 'unlock',
  in: 'query',
  required: false,
  description:
    'A password-protected link: the short-lived grant in the `download_url` of `POST /api/share/{token}/unlock/`.',
  schema: { type: 'string' },
};
/** Anonymous (public files, private links) or with the owner's or an admin's Bearer token. */
const optionalBearer = [{}, { bearer: [] }];

/** The answers of a file's content (download or PDF viewer). */
function contentResponses(byToken: boolean, view: boolean): Json {
  return {
    200: {
      description: view ? 'The PDF, to show in a frame of this site.' : 'The whole file.',
      headers: view ? { ...contentHeaders, 'X-Frame-Options': text('`SAMEORIGIN`.') } : contentHeaders,
      content: { [view ? 'application/pdf' : '*/*']: { schema: binary } },
    },
    206: {
      description: 'The byte range asked for (Range).',
      headers: {
        ...contentHeaders,
        'Content-Range': text('`bytes <first>-<last>/<size>`.'),
      },
      content: { '*/*': { schema: binary } },
    },
    302: {
      description:
        'With `DOWNLOAD_REDIRECT=presigned` (object storage): a GET is redirected to a presigned URL of the object, ' +
        'valid for 60 s, that answers with the same Content-Type and Content-Disposition (Range is sent again by ' +
        'the client). HEAD, 304 and 416 are still answered here, and a file with a download limit is streamed.',
      headers: { Location: text('The presigned URL.'), 'Cache-Control': text('`no-store`.') },
    },
    304: {
      description: 'Not modified: the If-None-Match ETag is the current one.',
      headers: { ETag: text('`"<sha256>"`.') },
    },
    ...(byToken
      ? {
          401: error(
            'The link has a password: POST it to `/api/share/{token}/unlock/` and follow its `download_url`. ' +
              'No byte is sent',
            ['password_required'],
          ),
        }
      : {}),
    404: error(
      byToken
        ? 'No such link (unknown or rotated token)'
        : view
          ? 'No such file you may see, or not a PDF'
          : 'No such file you may see: unknown, or private and neither yours (Bearer) nor opened by a grant',
      ['not_found'],
    ),
    410: error('The file has expired or has no downloads left: answered at once, before the expiry job removes it', [
      'gone',
    ]),
    416: {
      description: 'The Range is outside the file (`error.code`: `range_not_satisfiable`).',
      headers: { 'Content-Range': text('`bytes */<size>`.') },
      content: { 'application/json': { schema: ERROR } },
    },
  };
}

/** The answers of a thumbnail. */
function thumbResponses(byToken: boolean): Json {
  const thumbHeaders = {
    'Content-Type': text('`image/webp` or `image/jpeg`, or `image/svg+xml` for a placeholder.'),
    'Content-Length': { description: 'Bytes in this answer.', schema: { type: 'integer', minimum: 0 } },
    ETag: text('Of the thumbnail (changes with the content) or of the placeholder.'),
    'Cache-Control': text(
      '`private, max-age=31536000, immutable` when `v` is the current version, else `private, no-cache`.',
    ),
    'Cross-Origin-Resource-Policy': text('`cross-origin`: link previews on other sites may show it.'),
    ...userContentHeaders,
  };
  return {
    200: {
      description:
        'The thumbnail of an image (EXIF orientation applied, metadata stripped), or a placeholder (SVG icon of ' +
        "the file's type) while there is none. Never counted as a download.",
      headers: thumbHeaders,
      content: {
        'image/webp': { schema: binary },
        'image/jpeg': { schema: binary },
        'image/svg+xml': { schema: { type: 'string' } },
      },
    },
    304: {
      description: 'Not modified: the If-None-Match ETag is the current one.',
      headers: { ETag: text('The ETag.') },
    },
    ...(byToken ? { 401: error('The link has a password (see `GET /s/{token}`)', ['password_required']) } : {}),
    404: error(byToken ? 'No such link' : 'No such file you may see', ['not_found']),
    410: error('The file has expired or has no downloads left', ['gone']),
  };
}

/** GET and HEAD of one path: the same parameters and answers (HEAD without a body). */
function getAndHead(operation: Json): Json {
  const { summary, ...rest } = operation;
  return {
    get: { summary, ...rest },
    head: {
      summary: `${summary} (headers only)`,
      ...rest,
      description:
        `${rest.description ?? ''} HEAD answers the same status and headers with no body, and never counts as a download.`.trim(),
    },
  };
}

/** The paths of the download routes, keyed as the OpenAPI document keys its paths. */
export function downloadPaths(): Record<string, Json> {
  const downloads = ['downloads'];
  return {
    '/f/{id}': getAndHead({
      tags: downloads,
      summary: 'Download a file',
      description:
        'A public file for anyone; a private one for its owner or an admin (Bearer) or with a grant, else 404 ' +
        '(an id reveals nothing). A GET that starts at the first byte counts as a click (and takes one download ' +
        'of a file with a download limit; when none is left the answer is 410).',
      security: optionalBearer,
      parameters: [fileId, grant('`download` or `preview`'), ...rangeParameters],
      responses: contentResponses(false, false),
    }),
    '/s/{token}': getAndHead({
      tags: downloads,
      summary: 'Download a file through its private link',
      description:
        'The private file behind a share link, for anyone who has the link. A link with a password answers 401 ' +
        '`password_required` until it is unlocked (`POST /api/share/{token}/unlock/`). Clicks and download limits ' +
        'as on `/f/{id}`.',
      parameters: [shareToken, unlock, ...rangeParameters],
      responses: contentResponses(true, false),
    }),
    '/f/{id}/thumb': getAndHead({
      tags: downloads,
      summary: "A file's thumbnail",
      description: 'The same access as `/f/{id}` (a grant may also be a `thumb` one); no click is counted.',
      security: optionalBearer,
      parameters: [
        fileId,
        grant('`thumb` or `preview`'),
        {
          name: 'v',
          in: 'query',
          required: false,
          description:
            "The version in the file object's `thumbnail_url`: with the current one, the answer may be kept for a year.",
          schema: { type: 'string' },
        },
        rangeParameters[1],
      ],
      responses: thumbResponses(false),
    }),
    '/s/{token}/thumb': getAndHead({
      tags: downloads,
      summary: "A file's thumbnail through its private link",
      description: 'The same access as `/s/{token}`; no click is counted.',
      parameters: [shareToken, unlock, rangeParameters[1]],
      responses: thumbResponses(true),
    }),
    '/f/{id}/view': getAndHead({
      tags: downloads,
      summary: 'A PDF for the preview frame',
      description:
        'As `/f/{id}` for PDFs only (404 for any other type), with a CSP that lets this site frame it. The web app ' +
        'opens it with a `preview` grant, which counts no click.',
      security: optionalBearer,
      parameters: [fileId, grant('`preview`'), ...rangeParameters],
      responses: contentResponses(false, true),
    }),
    '/s/{token}/view': getAndHead({
      tags: downloads,
      summary: 'A PDF for the preview frame, through its private link',
      description: 'As `/s/{token}` for PDFs only (404 for any other type), framable by this site.',
      parameters: [shareToken, unlock, ...rangeParameters],
      responses: contentResponses(true, true),
    }),
  };
}

let built: Record<string, Json> | undefined;

/** The document with the download routes added (its own paths first). */
export function withDownloadPaths<T extends object>(doc: T): T {
  built ??= downloadPaths();
  const paths = (doc as { paths?: Record<string, Json> }).paths ?? {};
  return { ...doc, paths: { ...paths, ...built } };
}
