/**
 * The OpenAPI 3.1 document of the API, generated from the zod schemas in `schemas.ts`
 * (request validators and response shapes), served at `/api/openapi.json`.
 */
import { z } from 'zod';
import { OWNER_SECRET_HEADER } from './discovery.js';
import {
  BrowseParamsSchema,
  BrowseResponseSchema,
  DuplicatesParamsSchema,
  DuplicatesResponseSchema,
  ErrorSchema,
  FacetsSchema,
  FilterParamsSchema,
  MoreLikeParamsSchema,
  IdParamSchema,
  ImageDetailsSchema,
  LIMITS,
  LocalHelloSchema,
  LocalQueryBodySchema,
  LocalSearchResponseSchema,
  LocalSyncBodySchema,
  LocalSyncRunningSchema,
  LocalSyncStartedSchema,
  OriginalQuerySchema,
  SearchParamsSchema,
  SearchResponseSchema,
  StatusSchema,
  SyncStartedSchema,
  TextSearchQuerySchema,
  ThumbnailQuerySchema,
  UploadFormSchema,
  ZipQuerySchema,
} from './schemas.js';

type JsonSchema = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
    reused: 'inline',
    override: (ctx) => {
      const s = ctx.jsonSchema as JsonSchema;
      // Numeric query parameters are validated as strings first; document them as numbers.
      if (s.type === 'integer' || s.type === 'number') delete s.pattern;
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}

function parameters(schema: z.ZodObject, where: 'query' | 'path'): JsonSchema[] {
  const json = schemaOf(schema, 'input');
  const props = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || required.has(name), ...(description ? { description } : {}), schema: rest };
  });
}

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema: schemaOf(schema, 'output') } } });
const err = (description: string) => json(ErrorSchema, description);

const commonErrors = {
  '401': err('Missing or wrong bearer token (only when the server requires one).'),
  '403': err('Host or Origin not allowed.'),
};

const searchErrors = {
  '400': err('Invalid parameter; `error.field` names it.'),
  ...commonErrors,
  '503': err('Too many searches waiting (retry shortly).'),
};

/** What every `/api/local/*` operation needs: the owner secret, and nothing else. */
const ownerOnly = [{ ownerSecret: [] }];
const ownerErrors = { '403': err('No owner secret, or a wrong one (whatever else the request carries).') };
const jsonBody = (schema: z.ZodType, description: string) => ({ required: false, description, content: { 'application/json': { schema: schemaOf(schema, 'input') } } });

/** Builds the OpenAPI document; `version` is the server package version. */
export function buildOpenApi(version: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'pixsearch',
      version,
      description:
        'Search your own images with natural language or by example. Images are served only by catalog id. ' +
        'When the server is bound to a non-loopback address every request needs `Authorization: Bearer <token>`. ' +
        '`/api/local/*` is for the `pixsearch` CLI of the user who started the server: those routes need the per-run owner secret ' +
        `(\`${OWNER_SECRET_HEADER}\`, read from \`<data-dir>/server.json\`, mode 0600), which also stands in for the bearer token on every route.`,
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Required when the server has a token (always on a non-loopback address).' },
        ownerSecret: {
          type: 'apiKey',
          in: 'header',
          name: OWNER_SECRET_HEADER,
          description:
            'Per-run secret of the user who started the server, written with its address and pid to `<data-dir>/server.json` (mode 0600, removed on exit). Required by `/api/local/*`; accepted in place of the bearer token everywhere.',
        },
      },
    },
    security: [{}, { bearer: [] }, { ownerSecret: [] }],
    paths: {
      '/api/search': {
        get: {
          summary: 'Text search (also combined queries)',
          operationId: 'search',
          parameters: parameters(TextSearchQuerySchema, 'query'),
          responses: { '200': json(SearchResponseSchema, 'Ranked results.'), ...searchErrors },
        },
      },
      '/api/search/image': {
        post: {
          summary: 'Search by an uploaded image',
          operationId: 'searchByImage',
          parameters: parameters(SearchParamsSchema, 'query'),
          requestBody: {
            required: true,
            description: `The image as a multipart field \`image\`, or as the raw body with an image content type. At most ${LIMITS.maxUploadBytes} bytes and ${LIMITS.maxQueryImagePixels / 1e6} megapixels (read from the header before decoding: 413 \`IMAGE_TOO_LARGE\`); the type is recognised from the bytes. Uploads run in their own lane: they never delay text searches.`,
            content: {
              'multipart/form-data': { schema: schemaOf(UploadFormSchema, 'input') },
              'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
              'image/*': { schema: { type: 'string', format: 'binary' } },
            },
          },
          responses: {
            '200': json(SearchResponseSchema, 'Ranked results.'),
            ...searchErrors,
            '413': err('Upload larger than the byte limit (PAYLOAD_TOO_LARGE) or the pixel limit (IMAGE_TOO_LARGE).'),
            '415': err('Not an image type the server decodes (sniffed from the bytes).'),
            '422': err('The image could not be decoded.'),
          },
        },
      },
      '/api/images/{id}': {
        get: {
          summary: 'The original image file',
          operationId: 'getImage',
          parameters: [...parameters(IdParamSchema, 'path'), ...parameters(OriginalQuerySchema, 'query')],
          responses: {
            '200': { description: 'The file, with its content type, ETag and Last-Modified.', content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } },
            '304': { description: 'Not modified (If-None-Match matched the ETag).' },
            '400': err('The id is not a number.'),
            ...commonErrors,
            '404': err('No such image, or its file is gone.'),
          },
        },
      },
      '/api/images/{id}/thumbnail': {
        get: {
          summary: 'A WebP thumbnail (generated once, cached on disk)',
          operationId: 'getThumbnail',
          parameters: [...parameters(IdParamSchema, 'path'), ...parameters(ThumbnailQuerySchema, 'query')],
          responses: {
            '200': { description: 'The thumbnail.', content: { 'image/webp': { schema: { type: 'string', format: 'binary' } } } },
            '304': { description: 'Not modified.' },
            '400': err('Bad id or size.'),
            ...commonErrors,
            '404': err('No such image.'),
            '422': err('The image could not be decoded.'),
          },
        },
      },
      '/api/images/{id}/display': {
        get: {
          summary: `A WebP rendition of at most ${LIMITS.displaySize} px for viewing (any indexed format, EXIF orientation applied; cached on disk)`,
          operationId: 'getDisplayImage',
          parameters: parameters(IdParamSchema, 'path'),
          responses: {
            '200': { description: 'The rendition.', content: { 'image/webp': { schema: { type: 'string', format: 'binary' } } } },
            '304': { description: 'Not modified.' },
            '400': err('Bad id.'),
            ...commonErrors,
            '404': err('No such image.'),
            '422': err('The image could not be decoded.'),
          },
        },
      },
      '/api/images/{id}/info': {
        get: {
          summary: 'Catalog row of one image: full path, folder, size, dimensions, format, dates and camera metadata when known',
          operationId: 'getImageInfo',
          parameters: parameters(IdParamSchema, 'path'),
          responses: { '200': json(ImageDetailsSchema, 'The image.'), '400': err('Bad id.'), ...commonErrors, '404': err('No such image.') },
        },
      },
      '/api/zip': {
        get: {
          summary: `The originals of up to ${LIMITS.maxZipFiles} images as one zip (streamed, stored uncompressed)`,
          operationId: 'downloadZip',
          description: `At most ${LIMITS.maxZipFiles} images and ${LIMITS.maxZipBytes} bytes. Files gone from disk since the last sync are listed in MISSING.txt inside the archive.`,
          parameters: parameters(ZipQuerySchema, 'query'),
          responses: {
            '200': { description: 'The zip, as an attachment, with its Content-Length.', content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } },
            '400': err('Bad or too many ids.'),
            ...commonErrors,
            '404': err('An id is unknown, or no selected file is on disk.'),
            '413': err('The images hold more bytes than a zip may.'),
          },
        },
      },
      '/api/images/{id}/similar': {
        get: {
          summary: 'Images similar to a catalogued one',
          operationId: 'similar',
          parameters: [...parameters(IdParamSchema, 'path'), ...parameters(SearchParamsSchema, 'query')],
          responses: { '200': json(SearchResponseSchema, 'Ranked results.'), ...searchErrors, '404': err('No such image.') },
        },
      },
      '/api/search/similar': {
        get: {
          summary: 'More like these: images similar to the mean of several catalogued images',
          operationId: 'moreLike',
          description: 'Ranks by the mean of the stored embeddings of `ids` (no model run); the ids themselves are left out. Takes every filter, sort and paging parameter of /api/search.',
          parameters: parameters(MoreLikeParamsSchema, 'query'),
          responses: { '200': json(SearchResponseSchema, 'Ranked results.'), ...searchErrors, '404': err('An id is not an indexed image.') },
        },
      },
      '/api/browse': {
        get: {
          summary: 'Browse without a query: the images matching the filters, by date taken (a timeline)',
          operationId: 'browse',
          description: 'Newest first by default. Images without EXIF date are placed by their file date (`dateSource: mtime`). `total` is exact; `nextOffset` is null on the last page.',
          parameters: parameters(BrowseParamsSchema, 'query'),
          responses: { '200': json(BrowseResponseSchema, 'A page of images.'), '400': err('Invalid parameter; `error.field` names it.'), ...commonErrors },
        },
      },
      '/api/facets': {
        get: {
          summary: 'Values present for the filter pickers: cameras, formats, folders, date range, months',
          operationId: 'facets',
          description: 'Computed over the indexed images matching the given filters (none: the whole library).',
          parameters: parameters(FilterParamsSchema, 'query'),
          responses: { '200': json(FacetsSchema, 'Facets.'), '400': err('Invalid parameter; `error.field` names it.'), ...commonErrors },
        },
      },
      '/api/duplicates': {
        get: {
          summary: 'Groups of exact copies and near-duplicates (read only: nothing is deleted or moved)',
          operationId: 'duplicates',
          description:
            'Exact copies share a content hash; near-duplicates have stored embeddings with cosine similarity ≥ `threshold` (found through the vector index, no re-embedding; groups grow through chains of neighbours). Each group lists the suggested keeper first. `download=csv|json` sends the list as a file.',
          parameters: parameters(DuplicatesParamsSchema, 'query'),
          responses: {
            '200': {
              description: 'The groups (JSON), or the export (`download`).',
              content: { 'application/json': { schema: schemaOf(DuplicatesResponseSchema, 'output') }, 'text/csv': { schema: { type: 'string' } } },
            },
            '400': err('Invalid parameter; `error.field` names it.'),
            ...commonErrors,
            '503': err('Too many searches waiting (retry shortly).'),
          },
        },
      },
      '/api/status': {
        get: {
          summary: 'Library, model, backend and sync state',
          operationId: 'status',
          responses: { '200': json(StatusSchema, 'Status.'), ...commonErrors },
        },
      },
      '/api/sync': {
        post: {
          summary: 'Start an incremental sync',
          operationId: 'startSync',
          responses: { '202': json(SyncStartedSchema, 'Started; follow /api/sync/events.'), ...commonErrors, '409': err('A sync is already running.') },
        },
      },
      '/api/sync/events': {
        get: {
          summary: 'Sync progress as server-sent events',
          operationId: 'syncEvents',
          description:
            'Events: `state` (on connect: the SyncState), `progress` (SyncProgress, at most ~10/s, of whichever sync runs), `done` (SyncSummary plus `syncId` and `trigger`: `api`, `watch`, `cli` or `startup`), `error` ({code, message, syncId}), `warning` ({message}); a `: ping` comment every 15 s.',
          responses: { '200': { description: 'An event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...commonErrors, '503': err('Too many listeners.') },
        },
      },
      '/api/local/hello': {
        get: {
          summary: 'For the CLI: who owns this data directory (discovery check)',
          operationId: 'localHello',
          description: 'A client trusts `server.json` only when this answers, with its secret, the same pid and data directory: a file left behind by a crash (dead or reused pid) is ignored.',
          security: ownerOnly,
          responses: { '200': json(LocalHelloSchema, 'The server.'), ...ownerErrors },
        },
      },
      '/api/local/query': {
        post: {
          summary: "For the CLI: the engine's own search or similar call, answered warm",
          operationId: 'localQuery',
          description: "`pixsearch search` and `similar` while `pixsearch serve` runs: the engine's options and response (the same results as in-process); `image` terms are paths on this machine. Queued with the page's searches.",
          security: ownerOnly,
          requestBody: { ...jsonBody(LocalQueryBodySchema, 'The call.'), required: true },
          responses: {
            '200': json(LocalSearchResponseSchema, 'Ranked results.'),
            '400': err('Invalid body, query or option.'),
            ...ownerErrors,
            '404': err('No such image (similar).'),
            '503': err('Too many searches waiting (retry shortly).'),
          },
        },
      },
      '/api/local/sync': {
        post: {
          summary: 'For the CLI: start a sync for `pixsearch index`, or say which one runs',
          operationId: 'localSync',
          description:
            'Open /api/sync/events first, then ask: 202 starts a sync (trigger `cli`; follow its `done`/`error` event by `syncId`); 409 names the sync running now (the startup sync, the watcher\'s, another CLI\'s): wait for its end on the stream and ask again.',
          security: ownerOnly,
          requestBody: jsonBody(LocalSyncBodySchema, 'Folders to sync (optional).'),
          responses: {
            '202': json(LocalSyncStartedSchema, 'Started.'),
            '400': err('Invalid body.'),
            ...ownerErrors,
            '409': json(LocalSyncRunningSchema, 'Another sync runs.'),
            '503': err('The server is shutting down.'),
          },
        },
      },
      '/api/openapi.json': {
        get: { summary: 'This document', operationId: 'openapi', responses: { '200': { description: 'OpenAPI 3.1 document.' } } },
      },
    },
  };
}
