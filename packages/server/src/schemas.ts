/**
 * Zod schemas of the HTTP API: request validators (query strings, path parameters, uploads)
 * and response shapes. The OpenAPI document (`/api/openapi.json`) is generated from these.
 */
import { z } from 'zod';
import { parseDateBound } from '@pixsearch/core';

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

/** A query parameter that may repeat (`camera=a&camera=b`); commas also separate values when `commas`. */
function listParam(max: number, maxLen: number, description: string, commas = false) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((x) => (commas ? x.split(',') : [x])).map((x) => x.trim()).filter((x) => x !== ''))
    .pipe(
      z
        .array(z.string().max(maxLen).refine((x) => !CONTROL_CHARS.test(x), 'must not contain control characters'))
        .max(max),
    )
    .meta({ type: 'array', items: { type: 'string' }, description });
}

function dateParam(end: boolean, description: string) {
  return z
    .string()
    .max(40)
    .refine((v) => {
      try {
        parseDateBound(v, end, 'date');
        return true;
      } catch {
        return false;
      }
    }, 'expected an ISO date (2023-07-01) or date-time (2023-07-01T08:00, optionally with Z or +02:00)')
    .meta({ description });
}

const boolParam = (description: string) =>
  z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .meta({ type: 'boolean', description });

/** Metadata filters shared by search, browse, facets and duplicates. */
export const FilterParamsSchema = z.object({
  path: z
    .string()
    .min(1)
    .max(LIMITS.maxPathChars)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
    .optional()
    .meta({
      description:
        'Folder filter: keep only images whose path starts with this prefix — root-relative (`trips/2023/`) or absolute (`/home/me/Pictures/trips/`, as listed by /api/facets). A filter, never a file path.',
    }),
  from: dateParam(false, 'Taken on or after: ISO date (`2023-07-01`, from the start of that day) or date-time (`2023-07-01T08:00`). Without a time zone it compares with the camera\'s local time; with `Z` or `+02:00`, with the exact instant. Photos without EXIF date use the file date.').optional(),
  to: dateParam(true, 'Taken on or before (inclusive: a date includes that whole day). Same forms as `from`.').optional(),
  camera: listParam(100, 256, 'Camera (repeatable; any of them): matches camera names containing it, case-insensitively — `fuji`, `X-T4`, `Canon EOS R5`. The names are listed by /api/facets.').optional(),
  format: listParam(32, 16, 'Format (repeatable or comma-separated; any of them): jpeg (jpg), png, webp, gif, tiff, avif, heic, svg.', true).optional(),
  minWidth: intParam(0, 1_000_000, 'Minimum width in pixels (as displayed).').optional(),
  minHeight: intParam(0, 1_000_000, 'Minimum height in pixels (as displayed).').optional(),
  hasLocation: boolParam('`true`: only photos with a GPS position; `false`: only photos without.').optional(),
});
export type FilterParams = z.output<typeof FilterParamsSchema>;

/** Filters and paging shared by every search endpoint. */
export const SearchParamsSchema = FilterParamsSchema.extend({
  k: intParam(1, LIMITS.maxK, `Results to return (1–${LIMITS.maxK}, default ${LIMITS.defaultK}).`).optional(),
  offset: intParam(0, LIMITS.maxOffset, `Results to skip, for paging (0–${LIMITS.maxOffset}, default 0).`).optional(),
  threshold: numberParam(-1, 1, 'Minimum cosine score (−1…1, default: the engine default 0.1).').optional(),
  relative: numberParam(0, 2, 'Keep only results within this distance of the best score (0…2).').optional(),
  sort: z
    .enum(['relevance', 'date-desc', 'date-asc'])
    .optional()
    .meta({ description: '`relevance` (default: best score first), or `date-desc` / `date-asc`: all results above the threshold ordered by date taken.' }),
});
export type SearchParams = z.output<typeof SearchParamsSchema>;

/** `GET /api/browse`: no query, the images matching the filters by date. */
export const BrowseParamsSchema = FilterParamsSchema.extend({
  k: intParam(1, LIMITS.maxK, `Results to return (1–${LIMITS.maxK}, default ${LIMITS.defaultK}).`).optional(),
  offset: intParam(0, LIMITS.maxOffset, `Results to skip, for paging (0–${LIMITS.maxOffset}, default 0).`).optional(),
  sort: z.enum(['date-desc', 'date-asc']).optional().meta({ description: '`date-desc` (default: newest first, a timeline) or `date-asc`.' }),
});
export type BrowseParams = z.output<typeof BrowseParamsSchema>;

/** `GET /api/search/similar`: "more like these". */
export const MoreLikeParamsSchema = SearchParamsSchema.extend({
  ids: listParam(100, 16, 'Catalog ids of 1–100 indexed images (repeatable or comma-separated): results are ranked by similarity to the mean of their embeddings, and the ids themselves are left out.', true)
    .pipe(z.array(z.string().regex(/^(0|[1-9]\d{0,15})$/, 'expected numeric image ids').transform(Number)).min(1, 'at least one id')),
});

/** `GET /api/duplicates` */
export const DuplicatesParamsSchema = FilterParamsSchema.extend({
  threshold: numberParam(0, 1, 'Cosine similarity from which two images are near-duplicates (0…1, default 0.97).').optional(),
  neighbors: intParam(1, 100, 'Neighbours looked at per image (1–100, default 10).').optional(),
  download: z.enum(['json', 'csv']).optional().meta({ description: 'Send the list as an attachment (`json` or `csv`, one row per image) instead of the JSON response.' }),
});

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

const imageFields = {
  id: z.number().int(),
  root: z.string().meta({ description: 'Absolute path of the root folder holding the image.' }),
  path: z.string().meta({ description: 'Path relative to its root, `/`-separated.' }),
  absPath: z.string().meta({ description: 'Absolute path of the file.' }),
  width: z.number().int().meta({ description: 'Pixels as displayed (after EXIF orientation).' }),
  height: z.number().int(),
  format: z.string(),
  bytes: z.number().int().meta({ description: 'File size in bytes.' }),
  takenAt: z
    .string()
    .nullable()
    .meta({ description: 'Date taken, ISO 8601: with its UTC offset when known (`2023-07-14T10:23:45+02:00`), else the camera\'s local time (`2023-07-14T10:23:45`).' }),
  dateSource: z
    .enum(['exif-original', 'exif-create', 'mtime'])
    .nullable()
    .meta({ description: '`exif-original` (DateTimeOriginal), `exif-create` (CreateDate), or `mtime`: the file states no date, the file date is shown.' }),
  camera: z.string().nullable().meta({ description: 'Camera display name (maker and model).' }),
  make: z.string().nullable(),
  model: z.string().nullable(),
  lens: z.string().nullable(),
  latitude: z.number().nullable().meta({ description: 'GPS latitude, WGS-84 degrees.' }),
  longitude: z.number().nullable(),
  orientation: z.number().int().nullable().meta({ description: 'EXIF orientation 1–8 (already applied to width/height and to served thumbnails).' }),
  thumbnailUrl: z.string(),
  imageUrl: z.string(),
};

/** One image in browse results (search results add `score`). */
export const ImageItemSchema = z.object(imageFields).meta({ id: 'ImageItem' });

export const SearchResultSchema = z
  .object({ ...imageFields, score: z.number().meta({ description: 'Cosine similarity to the query (higher is better).' }) })
  .meta({ id: 'SearchResult' });

export const SearchResponseSchema = z
  .object({
    results: z.array(SearchResultSchema),
    total: z
      .number()
      .int()
      .optional()
      .meta({ description: 'Every result passing the filters and thresholds (exact). Absent only on large libraries (over 20,000 images, relevance order; 250,000 for date sorts) when the threshold lets more through than the search looked at: then nextOffset tells whether more follow.' }),
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

export const BrowseResponseSchema = z
  .object({
    results: z.array(ImageItemSchema),
    total: z.number().int().meta({ description: 'Images matching the filters (exact).' }),
    offset: z.number().int(),
    k: z.number().int(),
    nextOffset: z.number().int().nullable().meta({ description: 'Offset of the next page, or null at the end.' }),
    tookMs: z.number(),
  })
  .meta({ id: 'BrowseResponse' });

const countList = z.array(z.object({ value: z.string(), count: z.number().int() }));
export const FacetsSchema = z
  .object({
    total: z.number().int().meta({ description: 'Indexed images matching the filters.' }),
    cameras: countList.meta({ description: 'Camera names, most used first.' }),
    formats: countList,
    folders: z.array(z.object({ path: z.string(), count: z.number().int() })).meta({ description: 'Every folder holding images (absolute, all levels, sorted), with the images beneath it. Pass one as `path` (with a trailing `/`) to filter.' }),
    dateRange: z.object({ from: z.string(), to: z.string() }).nullable().meta({ description: 'Earliest and latest local date taken (YYYY-MM-DD).' }),
    months: z.array(z.object({ month: z.string(), count: z.number().int() })).meta({ description: 'Images per month taken (YYYY-MM), newest first.' }),
    located: z.number().int().meta({ description: 'Images with a GPS position.' }),
  })
  .meta({ id: 'Facets' });

const DuplicateMemberSchema = z.object({
  ...imageFields,
  hash: z.string().meta({ description: 'SHA-256 of the content: members with the same hash are exact copies.' }),
  similarity: z.number().meta({ description: 'Cosine similarity to the group\'s suggested keeper (1 for exact copies).' }),
});

export const DuplicatesResponseSchema = z
  .object({
    threshold: z.number(),
    images: z.number().int().meta({ description: 'Images compared.' }),
    groups: z.array(
      z.object({
        kind: z.enum(['exact', 'near']),
        keeper: z.number().int().meta({ description: 'Suggested keeper: most pixels, then largest file, then earliest date, then the shorter name. Nothing is deleted or moved.' }),
        minSimilarity: z.number(),
        images: z.array(DuplicateMemberSchema).meta({ description: 'The keeper first.' }),
      }),
    ),
    redundantBytes: z.number().meta({ description: 'Bytes of the members that are not keepers.' }),
    tookMs: z.number(),
  })
  .meta({ id: 'DuplicatesResponse' });

const SkippedFileSchema = z.object({ root: z.string(), path: z.string(), reason: z.string(), message: z.string() });

const SyncProgressSchema = z
  .object({
    phase: z.enum(['scan', 'hash', 'metadata', 'load-model', 'embed', 'index', 'done']),
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

/** Who started a sync (`SyncTrigger`). */
const SyncTriggerSchema = z
  .enum(['api', 'watch', 'cli', 'startup'])
  .meta({ description: '`api` (the page or an API client), `watch` (the folder watcher), `cli` (`pixsearch index`), `startup` (`pixsearch serve`\'s first sync).' });

export const SyncStateSchema = z
  .object({
    running: z.boolean(),
    id: z.number().int().meta({ description: 'Number of the current (or last) server-started sync (0 before the first).' }),
    trigger: SyncTriggerSchema.nullable(),
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

// ── /api/local/*: the `pixsearch` CLI of the user who started the server (owner secret) ──

/** The engine's search options, as the CLI sends them (the engine checks them). */
const LocalOptionsSchema = z
  .object({
    k: z.number().int().optional(),
    offset: z.number().int().optional(),
    threshold: z.number().optional(),
    relativeThreshold: z.number().optional(),
    pathPrefix: z.string().optional(),
    params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  })
  .passthrough()
  .default({})
  .meta({ description: 'The engine\'s `SearchOptions` (sort, date, camera, format, size and location filters too), checked by the engine as in-process.' });

const LocalTermSchema = z.union([
  z.object({ text: z.string(), weight: z.number().optional() }),
  z.object({ image: z.string().meta({ description: 'Path of an image file on the server\'s machine (the CLI runs there).' }), weight: z.number().optional() }),
  z.object({ imageId: z.number().int(), weight: z.number().optional() }),
]);

/** `POST /api/local/query` */
export const LocalQueryBodySchema = z
  .discriminatedUnion('op', [
    z.object({
      op: z.literal('search'),
      query: z.union([z.string().meta({ description: 'A query string, parsed like `q` of /api/search.' }), z.array(LocalTermSchema)]),
      options: LocalOptionsSchema,
    }),
    z.object({ op: z.literal('similar'), id: z.number().int().nonnegative(), options: LocalOptionsSchema }),
  ])
  .meta({ id: 'LocalQuery' });

/** The engine's own `SearchResponse` (what an in-process engine returns): catalog fields, no URLs. */
export const LocalSearchResponseSchema = z
  .object({
    results: z.array(z.object({ ...imageFields, score: z.number() }).omit({ thumbnailUrl: true, imageUrl: true })),
    total: z.number().int().optional(),
    timings: z.object({ embed: z.number(), search: z.number(), catalog: z.number(), total: z.number() }),
  })
  .catchall(z.unknown())
  .meta({ id: 'LocalSearchResponse' });

/** `POST /api/local/sync` */
export const LocalSyncBodySchema = z
  .object({ roots: z.array(z.string()).optional().meta({ description: 'Folders to sync, absolute (added to the library when new); default: all of the library\'s.' }) })
  .default({})
  .meta({ id: 'LocalSync' });

export const LocalSyncStartedSchema = z
  .object({ started: z.literal(true), syncId: z.number().int().meta({ description: 'Its id in the `done`/`error` events of /api/sync/events.' }), sync: SyncStateSchema })
  .meta({ id: 'LocalSyncStarted' });

export const LocalSyncRunningSchema = z
  .object({ started: z.literal(false), running: z.number().int().meta({ description: 'Id of the sync running now: wait for its `done` or `error` event, then ask again.' }), sync: SyncStateSchema })
  .meta({ id: 'LocalSyncRunning' });

/** `GET /api/local/hello` */
export const LocalHelloSchema = z
  .object({
    pid: z.number().int().meta({ description: 'Process id of the server (the discovery file must name the same).' }),
    version: z.string(),
    dataDir: z.string().meta({ description: 'The data directory the server owns.' }),
    sync: SyncStateSchema,
    limits: z
      .object({ defaultK: z.number().int(), maxK: z.number().int() })
      .meta({ description: 'The engine\'s `k` default and maximum (`pixsearch similar <file>` asks for one more to leave the file itself out).' }),
  })
  .meta({ id: 'LocalHello' });
