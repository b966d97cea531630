import type { Catalog } from './catalog.js';
import type { SearchParams } from '../vector-index.js';
import type { Embedder, ImageInput } from '../embedder.js';
import type { ModelVariant } from '../clip/bundle.js';
import type { FilterOptions, SortOrder } from './filter.js';
import type { DateSource } from './metadata.js';

export type { FilterOptions, SortOrder, DateSource };

/** Options for {@link SearchEngine.open}. */
export interface EngineOptions {
  /** Directory holding the catalog (SQLite), embeddings and index files. Created if missing. */
  dataDir: string;
  /**
   * Image folders to index (absolute or relative to cwd), added to the folders the catalog already
   * holds (writers only; a folder inside a known root is that root, a folder containing known
   * roots absorbs them). May be omitted: the stored roots are used. `removeRoot()` forgets one.
   */
  roots?: string[];
  /** Model: a bundle folder or a hub id (e.g. `Xenova/clip-vit-base-patch32`). Default: the catalog's model, else the default model. */
  model?: string;
  /** Vector backend: a registered name (see `listBackends()`). Default: the catalog's backend, else `auto` (exact search, HNSW above ~150k vectors). */
  backend?: string;
  /** Backend build parameters (e.g. `{ M: 16 }`). Saved in the catalog: never secrets. */
  backendParams?: Record<string, number | string>;
  /**
   * Remote backends: the environment variable holding the connection string (default: the
   * backend's own, e.g. `PIXSEARCH_PG_URL`). Only the variable's name is used; nothing is saved.
   */
  connectionEnv?: string;
  /**
   * Remote backends: the connection string itself (e.g. a `--db` URL: a library in PostgreSQL keeps
   * its pgvector table in the same database). Held in memory only, never saved; wins over `connectionEnv`.
   */
  connection?: string;
  /**
   * Readers: every this many ms, check the catalog's generation (one indexed lookup) and, when
   * writers changed it, catch the index up (see `SearchEngine.refresh()`); a `changed` event follows.
   * Off (0) by default; `pixsearch serve --db` front ends use 1000. Ignored for writers.
   */
  followIntervalMs?: number;
  /** Images per embedding batch (default 16). */
  batchSize?: number;
  /** Intra-op threads of the image tower (default: all cores). The text tower runs each query batch on one thread (`DEFAULT_TEXT_THREADS`). */
  threads?: number;
  /** Execution device for the model (default `cpu`). */
  device?: 'cpu' | 'cuda';
  /**
   * Image-tower precision, a Transformers.js v3 dtype: `fp32` (default), `fp16`, `int8`, `uint8`,
   * `q8`/`quantized`. Default: the one the library was embedded with, else fp32. Another one than
   * the library's is a model change (`ModelMismatchError`, or re-embedding with `reembed`).
   */
  visionDtype?: ModelVariant;
  /** Text-tower precision (default: the library's, else `q8`). Part of the model id like `visionDtype`. */
  textDtype?: ModelVariant;
  /** Image preprocessing: `scaled` (default: JPEG DCT scaling, then the exact bicubic) or `exact` (full decode, bit-exact with PIL). */
  preprocess?: 'scaled' | 'exact';
  /** Extra ignore globs (picomatch, matched against root-relative paths). */
  ignore?: string[];
  /** Model cache folder for hub downloads (default `PIXSEARCH_CACHE` or the XDG cache dir). */
  cacheDir?: string;
  /** Inject an embedder (tests, custom models); the engine does not close an injected embedder. */
  embedder?: Embedder;
  /** Open for reading only: no sync, and no lock contention with a writer. */
  readOnly?: boolean;
  /**
   * A catalog to use instead of the SQLite one in `dataDir` (e.g. `PostgresCatalog` from
   * `@pixsearch/index-pgvector/catalog`: one library shared by several machines). The engine takes
   * ownership and closes it. `dataDir` still holds the index files and, for writers, the lock.
   */
  catalog?: Catalog;
  /**
   * When the configured model differs from the one the library was embedded with: `true` forgets
   * the stored embeddings (the next sync re-embeds every image); otherwise opening or the first use
   * of the model throws `ModelMismatchError`. Default false.
   */
  reembed?: boolean;
  /** Images declaring more pixels (width × height) are skipped as `too-large` before decoding. Default 0x3FFF² (sharp's default). */
  maxImagePixels?: number;
  /** Model download progress (bytes). */
  onDownloadProgress?: (p: { file: string; received: number; total: number | undefined }) => void;
}

/** Options common to every search call; the metadata filters of {@link FilterOptions} combine with any query. */
export interface SearchOptions extends FilterOptions {
  /** Results to return, 1..1000 (default 30). */
  k?: number;
  /** Results to skip (pagination), ≥ 0 (default 0). */
  offset?: number;
  /** Minimum cosine score (default 0.1). */
  threshold?: number;
  /** Keep only results within this distance of the best score (e.g. 0.05); default none. */
  relativeThreshold?: number;
  /**
   * `relevance` (default, best score first), or `date-desc` / `date-asc`: every result above the
   * thresholds, ordered by date taken (images without a date last).
   */
  sort?: SortOrder;
  /** Backend search parameters (e.g. `{ nprobe: 16 }`), checked against the backend's declared ones. */
  params?: SearchParams;
  /** Cancels a query still waiting for the text tower (rejects with `AbortedError`); a started index search finishes. */
  signal?: AbortSignal;
}

/** One term of a combined query. Weights default to 1; negative weights subtract. */
export type QueryTerm =
  | { text: string; weight?: number }
  | { image: ImageInput; weight?: number }
  | { imageId: number; weight?: number };

/** What is known about one catalogued image (search results, browse, duplicates). */
export interface ImageInfo {
  /** Catalog id of the image (stable across syncs). */
  id: number;
  /** Absolute path of the root folder the image lives in. */
  root: string;
  /** Path relative to its root, with `/` separators. */
  path: string;
  /** Absolute path on disk. */
  absPath: string;
  /** Pixels, as displayed (after EXIF orientation); 0 when unknown. */
  width: number;
  height: number;
  /** `jpeg`, `png`, `webp`, … */
  format: string;
  /** File size in bytes. */
  bytes: number;
  /**
   * Date taken, ISO 8601: with its UTC offset when known (`2023-07-14T10:23:45+02:00`), else the
   * camera's local time without an offset (`2023-07-14T10:23:45`); null before metadata was read.
   */
  takenAt: string | null;
  /** Where `takenAt` comes from: `exif-original`, `exif-create`, or `mtime` (the file's date: the photo states none). */
  dateSource: DateSource | null;
  /** Camera display name (`FUJIFILM X-T4`), maker and model as written, lens. */
  camera: string | null;
  make: string | null;
  model: string | null;
  lens: string | null;
  /** GPS position, WGS-84 degrees. */
  latitude: number | null;
  longitude: number | null;
  /** EXIF orientation 1..8 (already applied to width/height). */
  orientation: number | null;
}

/** One search result. */
export interface SearchHit extends ImageInfo {
  /** Cosine similarity to the query, higher is better. */
  score: number;
}

/** Time spent per stage of a search, milliseconds. */
export interface SearchTimings {
  embed: number;
  search: number;
  catalog: number;
  total: number;
}

export interface SearchResponse {
  results: SearchHit[];
  /**
   * Every hit passing the filters and thresholds (before offset/k). Exact when present; absent only
   * for relevance-ordered searches of libraries over `COUNT_PASS_MAX` images (date sorts: over
   * `FULL_PASS_MAX`) whose threshold lets more through than the over-fetch looked at.
   */
  total?: number;
  timings: SearchTimings;
}

/** Options of `browse()`: filters, paging and a date order. */
export interface BrowseOptions extends FilterOptions {
  /** Results per page, 1..1000 (default 30). */
  k?: number;
  /** Results to skip, ≥ 0. */
  offset?: number;
  /** `date-desc` (default, newest first: a timeline) or `date-asc`. */
  sort?: 'date-desc' | 'date-asc';
}

export interface BrowseResponse {
  results: ImageInfo[];
  /** Images matching the filters (exact). */
  total: number;
  timings: { catalog: number; total: number };
}

/** Values present in the library (under the given filters), for filter pickers. */
export interface LibraryFacets {
  /** Indexed images matching the filters. */
  total: number;
  /** Camera names with their image counts, most used first. */
  cameras: { value: string; count: number }[];
  formats: { value: string; count: number }[];
  /** Every folder holding images (absolute, all levels), with the images beneath it, by path. */
  folders: { path: string; count: number }[];
  /** Earliest and latest local date taken (`YYYY-MM-DD`), null when nothing has a date. */
  dateRange: { from: string; to: string } | null;
  /** Images per local month (`2023-07`), newest first. */
  months: { month: string; count: number }[];
  /** Images with a GPS position. */
  located: number;
}

/** Options of `duplicates()`. */
export interface DuplicateOptions {
  /** Cosine similarity from which two images are near-duplicates (default `DEFAULT_DUPLICATE_THRESHOLD`). */
  threshold?: number;
  /** Neighbours looked at per image (default 10); a group grows through chains of neighbours. */
  neighbors?: number;
  /** Only images matching these filters are compared. */
  filter?: FilterOptions;
  /** Stops between batches (rejects with AbortedError). */
  signal?: AbortSignal;
  /** Progress: images compared so far of `total`. */
  onProgress?: (done: number, total: number) => void;
}

/** One image of a duplicate group. */
export interface DuplicateMember extends ImageInfo {
  /** Content hash (SHA-256): members with the same hash are exact copies. */
  hash: string;
  /** Cosine similarity to the group's suggested keeper (1 for the keeper and its exact copies). */
  similarity: number;
}

/** A group of exact copies or near-duplicates. */
export interface DuplicateGroup {
  /** `exact`: every member has the same content; `near`: at least two different contents. */
  kind: 'exact' | 'near';
  /** Members, the suggested keeper first (most pixels, then largest file, then earliest date, then the shorter name, then lowest id). */
  images: DuplicateMember[];
  /** Id of the suggested keeper (nothing is ever deleted or moved by pixsearch). */
  keeper: number;
  /** Lowest similarity of a member to the keeper. */
  minSimilarity: number;
}

export interface DuplicateReport {
  threshold: number;
  groups: DuplicateGroup[];
  /** Images compared. */
  images: number;
  /** Bytes taken by the members that are not keepers (what removing them would free). */
  redundantBytes: number;
  durationMs: number;
}

/** Options of `sync()`. */
export interface SyncOptions {
  /** Stops the sync between batches; what was committed is kept (`aborted: true` in the summary). */
  signal?: AbortSignal;
  /** Sync only these folders (added to the library when new). Default: every root of the library. */
  roots?: string[];
}

/** Progress events of `sync()`. */
export interface SyncProgress {
  /**
   * `load-model`: the image tower is being loaded (emitted at start and every second until ready);
   * `metadata`: reading photo metadata of images indexed before it existed (no re-embedding).
   */
  phase: 'scan' | 'hash' | 'metadata' | 'load-model' | 'embed' | 'index' | 'done';
  /** Items done in this phase (embed: files whose vectors are stored or that were skipped). */
  done: number;
  /** Embed phase: images decoded so far (runs ahead of `done`; counts from the first second). */
  decoded?: number;
  /** Embed phase: images actually run through the model so far (0 at the end = nothing to embed: all skipped or already known). */
  embedded?: number;
  /** Items in this phase, when known. */
  total: number | undefined;
  /** Items per second in this phase. */
  rate: number;
  /** Estimated seconds left in this phase, when known. */
  etaSeconds: number | undefined;
  /** Current file (root-relative), when relevant. */
  current?: string;
}

/** Summary returned by `sync()`. */
export interface SyncSummary {
  added: number;
  updated: number;
  moved: number;
  removed: number;
  unchanged: number;
  skipped: number;
  /** Images actually run through the model. */
  embedded: number;
  /** Files handed to embedding workers (a scaled-out library's scan); 0 when embedding here. */
  queued: number;
  durationMs: number;
  /** True when the sync stopped early through its AbortSignal (what was committed is kept). */
  aborted: boolean;
  /** Files skipped in this sync, with reasons. */
  skippedFiles: SkippedFile[];
}

export interface SkippedFile {
  root: string;
  path: string;
  /**
   * Short reason code: `empty`, `truncated`, `corrupt`, `not-an-image`, `unsupported-format` (BMP, JPEG XL,
   * CRW/X3F RAWs), `no-preview` (a RAW without a decodable embedded JPEG), `too-large` (pixel or byte limit), `broken-symlink`, `not-a-file` (FIFO, device),
   * `invalid-file-name` (not UTF-8), and — retried by every sync — `unreadable`, `embed-error`,
   * `model-changed`.
   */
  reason: string;
  /** Human-readable detail. */
  message: string;
}

/** Catalog row of one image, with its metadata. */
export interface ImageRecord extends ImageInfo {
  size: number;
  mtimeMs: number;
  hash: string;
  status: 'indexed' | 'skipped' | 'failed';
  reason: string | null;
}

/** What `stats()` returns. */
export interface EngineStats {
  dataDir: string;
  roots: string[];
  model: string;
  dimension: number;
  backend: string;
  backendParams: Record<string, number | string>;
  images: { indexed: number; skipped: number; failed: number };
  /** Vectors in the live index. */
  indexSize: number;
  /** ISO time of the last completed sync, if any. */
  lastSync: string | null;
  skipped: SkippedFile[];
  /** Bytes used by the data directory. */
  dataDirBytes: number;
}

/** Events emitted by the engine (it never prints). */
export interface EngineEvents {
  progress: [SyncProgress];
  /** A non-fatal problem worth telling the user (e.g. index rebuilt from stored embeddings). */
  warning: [string];
  /** Readers: the index caught up with what writers committed (`refresh()`); searches now see it. */
  changed: [{ generation: number; indexSize: number }];
}
