import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ImageDecodeError, PixsearchError } from '@pixsearch/core';
import { DECODABLE_FORMATS, sniffImage, type SearchOptions, type SearchResponse, type SearchHit } from '@pixsearch/core/engine';
import type { ServerContext } from '../context.js';
import { HttpError, type ErrorBody } from '../http-errors.js';
import type { Limiter } from '../limiter.js';
import type Sharp from 'sharp';
import { IdParamSchema, LIMITS, SearchParamsSchema, TextSearchQuerySchema, UploadFormSchema, type SearchParams } from '../schemas.js';
import { validate, validationErrorBody } from '../validation.js';

/** One result as the API returns it. */
export function toApiResult(hit: SearchHit) {
  return {
    id: hit.id,
    root: hit.root,
    path: hit.path,
    score: hit.score,
    width: hit.width,
    height: hit.height,
    format: hit.format,
    thumbnailUrl: `/api/images/${hit.id}/thumbnail?size=${LIMITS.defaultThumbnailSize}`,
    imageUrl: `/api/images/${hit.id}`,
  };
}

function searchOptions(p: SearchParams): Required<Pick<SearchOptions, 'k' | 'offset'>> & SearchOptions {
  return {
    k: p.k ?? LIMITS.defaultK,
    offset: p.offset ?? 0,
    ...(p.threshold === undefined ? {} : { threshold: p.threshold }),
    ...(p.relative === undefined ? {} : { relativeThreshold: p.relative }),
    ...(p.path === undefined ? {} : { pathPrefix: p.path }),
  };
}

async function respond(
  c: Context,
  ctx: ServerContext,
  params: SearchParams,
  run: (opts: SearchOptions) => Promise<SearchResponse>,
  started: number,
  lane: Limiter = ctx.searchLimiter,
) {
  const opts = searchOptions(params);
  const res = await lane.run(() => run(opts));
  // Make this page's thumbnails now, in parallel (bounded), rather than one by one as the browser asks.
  ctx.thumbnails.warm(res.results.flatMap((h) => ctx.engine.getImage(h.id) ?? []));
  const results = res.results.map(toApiResult);
  const more = results.length === opts.k && (res.total === undefined || res.total > opts.offset + opts.k) && opts.offset + opts.k <= LIMITS.maxOffset;
  c.header('Cache-Control', 'no-store');
  return c.json({
    results,
    ...(res.total === undefined ? {} : { total: res.total }),
    offset: opts.offset,
    k: opts.k,
    nextOffset: more ? opts.offset + opts.k : null,
    tookMs: Math.round((performance.now() - started) * 100) / 100,
    timings: res.timings,
  });
}

/** Engine argument errors on a text query are about the query text. */
function blameQuery(err: unknown): never {
  if (err instanceof PixsearchError && (err.code === 'INVALID_ARGUMENT' || err.code === 'QUERY_SYNTAX')) {
    throw new HttpError(400, err.code, `q: ${err.message}`, { field: 'q', cause: err, ...(err.hint ? { hint: err.hint } : {}) });
  }
  throw err;
}

const tooLarge = (max: number) => (c: Context) => c.json({ error: { code: 'PAYLOAD_TOO_LARGE', message: `the upload is larger than ${max} bytes`, field: 'image' } } satisfies ErrorBody, 413);

let sharpModule: Promise<typeof Sharp> | undefined;

/**
 * Refuses a query image whose header declares more than `maxPixels` pixels (413), before anything
 * decodes it: sharp reads the header only. A header sharp cannot read is a 422.
 */
async function checkQueryImagePixels(bytes: Uint8Array, maxPixels: number): Promise<void> {
  sharpModule ??= import('sharp').then((m) => m.default);
  const sharp = await sharpModule;
  let width: number | undefined;
  let height: number | undefined;
  try {
    ({ width, height } = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata());
  } catch (err) {
    throw new HttpError(422, 'IMAGE_DECODE', 'image: cannot be read (damaged, or not a complete image)', { field: 'image', cause: err });
  }
  if (width !== undefined && height !== undefined && width * height > maxPixels) {
    throw new HttpError(413, 'IMAGE_TOO_LARGE', `image: ${width}×${height} is ${Math.round((width * height) / 1e6)} megapixels; a query image may have at most ${maxPixels / 1e6} megapixels`, {
      field: 'image',
      hint: 'scale the image down (e.g. to 2048 pixels on the long side) and search again',
    });
  }
}

/** Words for a decode failure of an uploaded image, by reason (never libvips' own text). */
const UPLOAD_DECODE_MESSAGES: Record<string, string> = {
  truncated: 'the image data is truncated',
  'too-large': 'the image has too many pixels',
  'unsupported-format': 'the image format cannot be decoded',
  empty: 'the image is empty',
};

/** Reads the query image from a multipart field `image` or a raw image body. */
async function readUpload(c: Context, max: number): Promise<Uint8Array> {
  const type = (c.req.header('content-type') ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await c.req.raw.formData();
    } catch (err) {
      throw new HttpError(400, 'INVALID_ARGUMENT', 'image: malformed multipart body', { field: 'image', cause: err });
    }
    const image = form.get('image');
    if (image instanceof File && image.size > max) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the upload is larger than ${max} bytes`, { field: 'image' });
    const parsed = UploadFormSchema.safeParse({ image: image ?? undefined });
    if (!parsed.success) {
      const body = validationErrorBody(parsed.error.issues, 'image');
      throw new HttpError(400, 'INVALID_ARGUMENT', body.error.message, { field: body.error.field ?? 'image' });
    }
    return new Uint8Array(await parsed.data.image.arrayBuffer());
  }
  if (type.startsWith('image/') || type.startsWith('application/octet-stream')) {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.length > max) throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `the upload is larger than ${max} bytes`, { field: 'image' });
    if (bytes.length === 0) throw new HttpError(400, 'INVALID_ARGUMENT', 'image: must not be empty', { field: 'image' });
    return bytes;
  }
  throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send multipart/form-data with a file field "image", or the raw image bytes with an image/* content type', {
    field: 'image',
  });
}

/** `GET /api/search`, `POST /api/search/image`, `GET /api/images/:id/similar`. */
export function searchRoutes(app: Hono, ctx: ServerContext): void {
  app.get('/api/search', validate('query', TextSearchQuerySchema), async (c) => {
    const started = performance.now();
    const params = c.req.valid('query');
    const query = ctx.parseQuery ? ctx.parseQuery(params.q) : params.q;
    return respond(c, ctx, params, (opts) => ctx.engine.search(query, opts).catch(blameQuery), started);
  });

  app.post(
    '/api/search/image',
    bodyLimit({ maxSize: ctx.maxUploadBytes + 64 * 1024, onError: tooLarge(ctx.maxUploadBytes) }),
    validate('query', SearchParamsSchema),
    async (c) => {
      const started = performance.now();
      const params = c.req.valid('query');
      const bytes = await readUpload(c, ctx.maxUploadBytes);
      // The engine's sniffer (magic bytes only); SVG is text and not accepted as a query image.
      const { format } = sniffImage(bytes);
      if (format === 'unknown' || format === 'svg') {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'image: not a JPEG, PNG, GIF, WebP, AVIF, HEIC or TIFF image (recognised from its bytes)', { field: 'image' });
      }
      if (!DECODABLE_FORMATS.has(format)) {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `image: ${format.toUpperCase()} images cannot be decoded (pixsearch does not read this format)`, {
          field: 'image',
          hint: 'convert it to JPEG or PNG first',
        });
      }
      await checkQueryImagePixels(bytes, ctx.maxQueryImagePixels);
      const search = (opts: SearchOptions) =>
        ctx.engine.searchByImage(bytes, opts).catch((err: unknown) => {
          if (err instanceof ImageDecodeError) {
            const what = UPLOAD_DECODE_MESSAGES[err.reason] ?? 'the image data is damaged';
            throw new HttpError(422, 'IMAGE_DECODE', `image: cannot be decoded (${what})`, { field: 'image', cause: err });
          }
          throw err;
        });
      // Uploads have their own lane: decoding them never holds up the text searches.
      return respond(c, ctx, params, search, started, ctx.uploadLimiter);
    },
  );

  app.get('/api/images/:id/similar', validate('param', IdParamSchema), validate('query', SearchParamsSchema), async (c) => {
    const started = performance.now();
    const { id } = c.req.valid('param');
    if (ctx.engine.getImage(id)?.status !== 'indexed') throw new HttpError(404, 'NOT_FOUND', `image ${id} not found`);
    return respond(c, ctx, c.req.valid('query'), (opts) => ctx.engine.similar(id, opts), started);
  });
}
