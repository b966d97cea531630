/**
 * Zod schemas of the HTTP API: request validators (query strings, path parameters, uploads)
 * and response shapes. The OpenAPI document (`/api/openapi.json`) is generated from these.
 */
import { z } from 'zod';

/** Request bounds enforced at the edge. */
export const LIMITS = {
  /** Largest `k` (results per page). */
  maxK: 200,
  /** Default `k`. */
  defaultK: 30,
  /** Largest `offset`; with `k` this bounds the engine's over-fetch. */
  maxOffset: 10_000,
  /** Longest text query, characters. */
  maxQueryChars: 500,
  /** Longest `path` prefix filter, characters. */
  maxPathChars: 1024,
  /** Largest image upload, bytes (20 MiB). */
  maxUploadBytes: 20 * 1024 * 1024,
  /**
   * Most pixels (width × height, from the header) of an uploaded query image: 40 MP covers every
   * phone and most cameras, while a tiny file declaring 16383 × 16383 (268 MP) is refused before
   * it is decoded. Library images keep the engine's own, larger limit.
   */
  maxQueryImagePixels: 40_000_000,
  /** Thumbnail sizes (longest side, pixels). */
  thumbnailSizes: [128, 256, 512] as const,
  /** Default thumbnail size. */
  defaultThumbnailSize: 256,
  /** Longest side of the viewer's display rendition (`/api/images/:id/display`), pixels. */
  displaySize: 2048,
  /** Most images in one zip download. */
  maxZipFiles: 1000,
  /** Most bytes (sum of the originals) in one zip download: 4 GiB. */
  maxZipBytes: 4 * 1024 ** 3,
} as const;

function intParam(min: number, max: number, description: string) {
  return z
    .string()
    .regex(/^-?\d{1,12}$/, 'expected an integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .meta({ type: 'integer', minimum: min, maximum: max, description });
}

function numberParam(min: number, max: number, description: string) {
  return z
    .string()
    .regex(/^-?(\d{1,6}(\.\d{0,12})?|\.\d{1,12})$/, 'expected a decimal number')
    .transform(Number)
    .pipe(z.number().min(min).max(max))
    .meta({ type: 'number', minimum: min, maximum: max, description });
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Filters and paging shared by every search endpoint. */
export const SearchParamsSchema = z.object({
  k: intParam(1, LIMITS.maxK, `Results to return (1–${LIMITS.maxK}, default ${LIMITS.defaultK}).`).optional(),
  offset: intParam(0, LIMITS.maxOffset, `Results to skip, for paging (0–${LIMITS.maxOffset}, default 0).`).optional(),
  threshold: numberParam(-1, 1, 'Minimum cosine score (−1…1, default: the engine default 0.1).').optional(),
  relative: numberParam(0, 2, 'Keep only results within this distance of the best score (0…2).').optional(),
  path: z
    .string()
    .min(1)
    .max(LIMITS.maxPathChars)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
    .optional()
    .meta({ description: 'Keep only images whose root-relative path starts with this prefix (a filter, never a file path).' }),
});
export type SearchParams = z.output<typeof SearchParamsSchema>;

/** `GET /api/search` */
export const TextSearchQuerySchema = SearchParamsSchema.extend({
  q: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(LIMITS.maxQueryChars)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
    .meta({
      description:
        'Text query. Combined queries are accepted: `"beach" + "sunset" - "people"`, weights like `2:"sunset"`, `id:42` for the embedding of catalogued image 42.',
    }),
});

/** `:id` path parameter: a catalog id (decimal, no sign, no leading zeros). */
export const IdParamSchema = z.object({
  id: z
    .string()
    .regex(/^(0|[1-9]\d{0,15})$/, 'expected a numeric image id')
    .transform(Number)
    .pipe(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER))
    .meta({ type: 'integer', minimum: 0, description: 'Catalog id of the image.' }),
});

/** `GET /api/images/:id/thumbnail` */
export const ThumbnailQuerySchema = z.object({
  size: z
    .enum(LIMITS.thumbnailSizes.map(String) as [string, ...string[]])
    .optional()
    .meta({ description: `Longest side in pixels, one of ${LIMITS.thumbnailSizes.join(', ')} (default ${LIMITS.defaultThumbnailSize}).` }),
});

/** `GET /api/images/:id` */
export const OriginalQuerySchema = z.object({
  download: z
    .enum(['1', '0', 'true', 'false'])
    .optional()
    .meta({ description: 'With 1 (or true) the file is sent as an attachment (Content-Disposition: attachment), for saving instead of showing.' }),
});

/** `GET /api/zip` */
export const ZipQuerySchema = z.object({
  ids: z
    .string()
    .max(LIMITS.maxZipFiles * 17, `at most ${LIMITS.maxZipFiles} images per zip`)
    .regex(/^(0|[1-9]\d{0,15})(,(0|[1-9]\d{0,15}))*$/, 'expected comma-separated image ids')
    .transform((s) => [...new Set(s.split(',').map(Number))])
    .pipe(z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).min(1).max(LIMITS.maxZipFiles, `at most ${LIMITS.maxZipFiles} images per zip`))
    .meta({ type: 'string', description: `Comma-separated catalog ids of the images to put in the zip (1–${LIMITS.maxZipFiles}).` }),
});

/** `POST /api/search/image` multipart form. */
export const UploadFormSchema = z.object({
  image: z
    .file()
    .min(1, 'must not be empty')
    .max(LIMITS.maxUploadBytes)
    .meta({ description: `The query image (JPEG, PNG, GIF, WebP, AVIF or TIFF; recognised from its bytes), at most ${LIMITS.maxUploadBytes} bytes.` }),
});

// ---------------------------------------------------------------- responses

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable code, e.g. INVALID_ARGUMENT, NOT_FOUND, UNAUTHORIZED, PAYLOAD_TOO_LARGE, SYNC_RUNNING.' }),
      message: z.string(),
      field: z.string().optional().meta({ description: 'The request field at fault.' }),
      hint: z.string().optional(),
      issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const SearchResultSchema = z
  .object({
    id: z.number().int(),
    root: z.string().meta({ description: 'Absolute path of the root folder holding the image.' }),
    path: z.string().meta({ description: 'Path relative to its root, `/`-separated.' }),
    score: z.number().meta({ description: 'Cosine similarity to the query (higher is better).' }),
    width: z.number().int(),
    height: z.number().int(),
    format: z.string(),
    thumbnailUrl: z.string(),
    imageUrl: z.string(),
  })
  .meta({ id: 'SearchResult' });

export const SearchResponseSchema = z
  .object({
    results: z.array(SearchResultSchema),
    total: z.number().int().optional().meta({ description: 'Hits that passed the filters, when known (bounded by the over-fetch).' }),
    offset: z.number().int(),
    k: z.number().int(),
    nextOffset: z.number().int().nullable().meta({ description: 'Offset of the next page, or null when this page was the last.' }),
    tookMs: z.number().meta({ description: 'Server time for the whole request, milliseconds.' }),
    timings: z.object({ embed: z.number(), search: z.number(), catalog: z.number(), total: z.number() }).meta({ description: 'Engine time per stage, milliseconds.' }),
  })
  .meta({ id: 'SearchResponse' });

/** `GET /api/images/:id/info` */
export const ImageDetailsSchema = z
  .object({
    id: z.number().int(),
    root: z.string().meta({ description: 'Absolute path of the root folder holding the image.' }),
    path: z.string().meta({ description: 'Path relative to its root, `/`-separated.' }),
    absPath: z.string().meta({ description: 'Absolute path of the file.' }),
    folder: z.string().meta({ description: 'Root-relative folder of the file (`` at the top); usable as the `path` filter.' }),
    size: z.number().int().meta({ description: 'File size, bytes.' }),
    mtime: z.string().meta({ description: 'Modification time of the file (ISO 8601).' }),
    width: z.number().int(),
    height: z.number().int(),
    format: z.string(),
    hash: z.string().meta({ description: 'Content hash.' }),
    imageUrl: z.string(),
    displayUrl: z.string().meta({ description: `WebP rendition at most ${LIMITS.displaySize} px, for showing any format (TIFF, HEIC, RAW) in a browser.` }),
    downloadUrl: z.string(),
  })
  .catchall(z.unknown())
  .meta({ id: 'ImageDetails', description: 'Catalog row of one image; metadata fields (date taken, camera, lens, location) are included when the catalog has them.' });

const SkippedFileSchema = z.object({ root: z.string(), path: z.string(), reason: z.string(), message: z.string() });

const SyncProgressSchema = z
  .object({
    phase: z.enum(['scan', 'hash', 'load-model', 'embed', 'index', 'done']),
    done: z.number(),
    total: z.number().nullable(),
    rate: z.number(),
    etaSeconds: z.number().nullable(),
    current: z.string().optional(),
    decoded: z.number().optional().describe('Embed phase: images decoded so far (runs ahead of done)'),
    embedded: z.number().optional().describe('Embed phase: images run through the model so far; 0 at the end = nothing to embed'),
  })
  .meta({ id: 'SyncProgress' });

const SyncSummarySchema = z
  .object({
    added: z.number(),
    updated: z.number(),
    moved: z.number(),
    removed: z.number(),
    unchanged: z.number(),
    skipped: z.number(),
    embedded: z.number(),
    queued: z.number(),
    durationMs: z.number(),
    aborted: z.boolean(),
    skippedFiles: z.array(SkippedFileSchema),
  })
  .meta({ id: 'SyncSummary' });

export const SyncStateSchema = z
  .object({
    running: z.boolean(),
    startedAt: z.string().nullable(),
    progress: SyncProgressSchema.nullable(),
    lastSummary: SyncSummarySchema.nullable(),
    lastError: z.object({ code: z.string(), message: z.string() }).nullable(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'SyncState' });

export const StatusSchema = z
  .object({
    version: z.string(),
    model: z.string(),
    dimension: z.number().int(),
    backend: z.string(),
    backendParams: z.record(z.string(), z.union([z.number(), z.string()])),
    roots: z.array(z.string()),
    images: z.object({ indexed: z.number().int(), skipped: z.number().int(), failed: z.number().int() }),
    indexSize: z.number().int(),
    lastSync: z.string().nullable(),
    skipped: z.array(SkippedFileSchema).meta({ description: 'Skipped files with reasons (the first 200).' }),
    skippedTotal: z.number().int(),
    dataDirBytes: z.number(),
    sync: SyncStateSchema,
    syncListeners: z.number().int().meta({ description: 'Open /api/sync/events streams.' }),
    limits: z.object({
      maxK: z.number().int(),
      maxOffset: z.number().int(),
      maxQueryChars: z.number().int(),
      maxUploadBytes: z.number().int(),
      thumbnailSizes: z.array(z.number().int()),
    }),
  })
  .meta({ id: 'Status' });

export const SyncStartedSchema = z.object({ started: z.literal(true), sync: SyncStateSchema }).meta({ id: 'SyncStarted' });
