import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ImageDecodeError, PixsearchError } from '@pixsearch/core';
import { DECODABLE_FORMATS, duplicatesCsvRows, sniffImage, type FilterOptions, type ImageInfo, type SearchOptions, type SearchResponse, type SearchHit } from '@pixsearch/core/engine';
import type { ServerContext } from '../context.js';
import { HttpError, type ErrorBody } from '../http-errors.js';
import type { Limiter } from '../limiter.js';
import type Sharp from 'sharp';
import {
  BrowseParamsSchema,
  DuplicatesParamsSchema,
  FilterParamsSchema,
  IdParamSchema,
  LIMITS,
  MoreLikeParamsSchema,
  SearchParamsSchema,
  TextSearchQuerySchema,
  UploadFormSchema,
  type FilterParams,
  type SearchParams,
} from '../schemas.js';
import { validate, validationErrorBody } from '../validation.js';

/** One image as the API returns it (search results add `score`). */
export function toApiImage(image: ImageInfo) {
  return {
    id: image.id,
    root: image.root,
    path: image.path,
    absPath: image.absPath,
    width: image.width,
    height: image.height,
    format: image.format,
    bytes: image.bytes,
    takenAt: image.takenAt,
    dateSource: image.dateSource,
    camera: image.camera,
    make: image.make,
    model: image.model,
    lens: image.lens,
    latitude: image.latitude,
    longitude: image.longitude,
    orientation: image.orientation,
    thumbnailUrl: `/api/images/${image.id}/thumbnail?size=${LIMITS.defaultThumbnailSize}`,
    imageUrl: `/api/images/${image.id}`,
  };
}

/** One result as the API returns it. */
export function toApiResult(hit: SearchHit) {
  return { ...toApiImage(hit), score: hit.score };
}

/** Engine filter options from the validated query parameters. */
export function filterOptions(p: FilterParams): FilterOptions {
  return {
    ...(p.path === undefined ? {} : { pathPrefix: p.path }),
    ...(p.from === undefined ? {} : { from: p.from }),
    ...(p.to === undefined ? {} : { to: p.to }),
    ...(p.camera === undefined || p.camera.length === 0 ? {} : { camera: p.camera }),
    ...(p.format === undefined || p.format.length === 0 ? {} : { format: p.format }),
    ...(p.minWidth === undefined ? {} : { minWidth: p.minWidth }),
    ...(p.minHeight === undefined ? {} : { minHeight: p.minHeight }),
    ...(p.hasLocation === undefined ? {} : { hasLocation: p.hasLocation }),
  };
}

function searchOptions(p: SearchParams): Required<Pick<SearchOptions, 'k' | 'offset'>> & SearchOptions {
  return {
    k: p.k ?? LIMITS.defaultK,
    offset: p.offset ?? 0,
    ...(p.threshold === undefined ? {} : { threshold: p.threshold }),
    ...(p.relative === undefined ? {} : { relativeThreshold: p.relative }),
    ...(p.sort === undefined ? {} : { sort: p.sort }),
    ...filterOptions(p),
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
  // A client that goes away (the page cancels a stale keystroke's request) leaves the queues.
  const signal = c.req.raw.signal;
  const opts = { ...searchOptions(params), signal };
  const res = await lane.run(() => run(opts), signal).catch((err: unknown) => {
    if (err instanceof PixsearchError && err.code === 'INVALID_ARGUMENT' && OPTION_ERROR.test(err.message)) badRequest(err);
    throw err;
  });
  // Make this page's thumbnails now, in parallel (bounded), rather than one by one as the browser asks.
  ctx.thumbnails.warmIds(
    res.results.map((h) => h.id),
    (id) => ctx.engine.getImage(id),
  );
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

/** Engine messages about an option start with the option's name. */
const OPTION_ERROR = /^(from|to|camera|format|minWidth|minHeight|hasLocation|pathPrefix|sort|k|offset|threshold|relativeThreshold)\b/;

/** Engine argument errors on a text query are about the query text (unless they name an option). */
function blameQuery(err: unknown): never {
  if (err instanceof PixsearchError && err.code === 'INVALID_ARGUMENT' && OPTION_ERROR.test(err.message)) badRequest(err);
  if (err instanceof PixsearchError && (err.code === 'INVALID_ARGUMENT' || err.code === 'QUERY_SYNTAX')) {
    throw new HttpError(400, err.code, `q: ${err.message}`, { field: 'q', cause: err, ...(err.hint ? { hint: err.hint } : {}) });
  }
  throw err;
}

const tooLarge = (max: number) => (c: Context) => c.json({ error: { code: 'PAYLOAD_TOO_LARGE', message: `the upload is larger than ${max} bytes`, field: 'image' } } satisfies ErrorBody, 413);

let sharpModule: Promise<typeof Sharp> | undefined;

/**
 * Refuses a query image whose header declares more than `maxPixels` pixels (413), before anything
 * decodes it: the engine's sniffer reads the size from the first bytes, else sharp reads the header
 * only. When neither can tell (a format sharp cannot parse, e.g. HEIC), the decoder decides.
 */
async function checkQueryImagePixels(bytes: Uint8Array, sniffed: { width?: number; height?: number }, maxPixels: number): Promise<void> {
  let { width, height } = sniffed;
  if (width === undefined || height === undefined) {
    sharpModule ??= import('sharp').then((m) => m.default);
    const sharp = await sharpModule;
    try {
      ({ width, height } = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata());
    } catch {
      return; // not a header sharp reads: the engine's decoder reports what is wrong (422)
    }
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

/** Engine argument errors on a filter are the client's (400). */
function badRequest(err: unknown): never {
  if (err instanceof PixsearchError && err.code === 'INVALID_ARGUMENT') {
    const name = OPTION_ERROR.exec(err.message)?.[1];
    const field = name === 'pathPrefix' ? 'path' : name === 'relativeThreshold' ? 'relative' : name;
    throw new HttpError(400, err.code, err.message, { cause: err, ...(field ? { field } : {}), ...(err.hint ? { hint: err.hint } : {}) });
  }
  throw err;
}

/**
 * `GET /api/search`, `POST /api/search/image`, `GET /api/images/:id/similar`, `GET /api/search/similar`
 * (more like these), `GET /api/browse`, `GET /api/facets`, `GET /api/duplicates`.
 */
export function searchRoutes(app: Hono, ctx: ServerContext): void {
  app.get('/api/search', validate('query', TextSearchQuerySchema), async (c) => {
    const started = performance.now();
    const params = c.req.valid('query');
    return respond(c, ctx, params, (opts) => ctx.engine.search(params.q, opts).catch(blameQuery), started);
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
      const sniffed = sniffImage(bytes);
      const { format } = sniffed;
      if (format === 'unknown' || format === 'svg') {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'image: not a JPEG, PNG, GIF, WebP, AVIF, HEIC or TIFF image (recognised from its bytes)', { field: 'image' });
      }
      if (!DECODABLE_FORMATS.has(format)) {
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `image: ${format.toUpperCase()} images cannot be decoded (pixsearch does not read this format)`, {
          field: 'image',
          hint: 'convert it to JPEG or PNG first',
        });
      }
      await checkQueryImagePixels(bytes, sniffed, ctx.maxQueryImagePixels);
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

  app.get('/api/search/similar', validate('query', MoreLikeParamsSchema), async (c) => {
    const started = performance.now();
    const params = c.req.valid('query');
    for (const id of params.ids) {
      if (ctx.engine.getImage(id)?.status !== 'indexed') throw new HttpError(404, 'NOT_FOUND', `image ${id} not found`, { field: 'ids' });
    }
    return respond(c, ctx, params, (opts) => ctx.engine.moreLike(params.ids, opts), started);
  });

  app.get('/api/browse', validate('query', BrowseParamsSchema), async (c) => {
    const started = performance.now();
    const p = c.req.valid('query');
    const k = p.k ?? LIMITS.defaultK;
    const offset = p.offset ?? 0;
    const res = await ctx.engine.browse({ ...filterOptions(p), k, offset, sort: p.sort ?? 'date-desc' }).catch(badRequest);
    const more = res.total > offset + k && offset + k <= LIMITS.maxOffset;
    c.header('Cache-Control', 'no-store');
    return c.json({
      results: res.results.map(toApiImage),
      total: res.total,
      offset,
      k,
      nextOffset: more ? offset + k : null,
      tookMs: Math.round((performance.now() - started) * 100) / 100,
    });
  });

  app.get('/api/facets', validate('query', FilterParamsSchema), async (c) => {
    const facets = await ctx.engine.facets(filterOptions(c.req.valid('query'))).catch(badRequest);
    c.header('Cache-Control', 'no-store');
    return c.json(facets);
  });

  app.get('/api/duplicates', validate('query', DuplicatesParamsSchema), async (c) => {
    const started = performance.now();
    const p = c.req.valid('query');
    const filter = filterOptions(p);
    const report = await ctx.searchLimiter
      .run(() =>
        ctx.engine.duplicates({
          ...(p.threshold === undefined ? {} : { threshold: p.threshold }),
          ...(p.neighbors === undefined ? {} : { neighbors: p.neighbors }),
          ...(Object.keys(filter).length > 0 ? { filter } : {}),
        }),
      )
      .catch(badRequest);
    const groups = report.groups.map((g) => ({
      kind: g.kind,
      keeper: g.keeper,
      minSimilarity: g.minSimilarity,
      images: g.images.map((m) => ({ ...toApiImage(m), hash: m.hash, similarity: m.similarity })),
    }));
    const body = { threshold: report.threshold, images: report.images, groups, redundantBytes: report.redundantBytes, tookMs: Math.round((performance.now() - started) * 100) / 100 };
    c.header('Cache-Control', 'no-store');
    if (p.download === 'csv') {
      return c.body(duplicatesCsvRows(report).join('\r\n') + '\r\n', 200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="pixsearch-duplicates.csv"' });
    }
    if (p.download === 'json') {
      return c.body(JSON.stringify(body, null, 2) + '\n', 200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Disposition': 'attachment; filename="pixsearch-duplicates.json"' });
    }
    return c.json(body);
  });
}
