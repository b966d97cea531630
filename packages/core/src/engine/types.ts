import type { SearchParams } from '../vector-index.js';
import type { Embedder, ImageInput } from '../embedder.js';
import type { ModelVariant } from '../clip/bundle.js';

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
  /** Vector backend: a registered name (see `listBackends()`). Default: the catalog's backend, else `faiss-flat`. */
  backend?: string;
  /** Backend build parameters (e.g. `{ M: 16 }`). Saved in the catalog: never secrets. */
  backendParams?: Record<string, number | string>;
  /**
   * Remote backends: the environment variable holding the connection string (default: the
   * backend's own, e.g. `PIXSEARCH_PG_URL`). Only the variable's name is used; nothing is saved.
   */
  connectionEnv?: string;
  /** Images per embedding batch (default 16). */
  batchSize?: number;
  /** Intra-op threads for the model (default: all cores). */
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

/** Options common to every search call. */
export interface SearchOptions {
  /** Results to return, 1..1000 (default 30). */
  k?: number;
  /** Results to skip (pagination), ≥ 0 (default 0). */
  offset?: number;
  /** Minimum cosine score (default 0.1). */
  threshold?: number;
  /** Keep only results within this distance of the best score (e.g. 0.05); default none. */
  relativeThreshold?: number;
  /** Keep only images whose root-relative path starts with this prefix. */
  pathPrefix?: string;
  /** Backend search parameters (e.g. `{ nprobe: 16 }`), checked against the backend's declared ones. */
  params?: SearchParams;
}

/** One term of a combined query. Weights default to 1; negative weights subtract. */
export type QueryTerm =
  | { text: string; weight?: number }
  | { image: ImageInput; weight?: number }
  | { imageId: number; weight?: number };

/** One search result. */
export interface SearchHit {
  /** Catalog id of the image (stable across syncs). */
  id: number;
  /** Absolute path of the root folder the image lives in. */
  root: string;
  /** Path relative to its root, with `/` separators. */
  path: string;
  /** Cosine similarity to the query, higher is better. */
  score: number;
  width: number;
  height: number;
  format: string;
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
  /** Hits that passed the filters before offset/k were applied, when known (bounded by the over-fetch). */
  total?: number;
  timings: SearchTimings;
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
  /** `load-model`: the image tower is being loaded (emitted at start and every second until ready). */
  phase: 'scan' | 'hash' | 'load-model' | 'embed' | 'index' | 'done';
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

/** Catalog row of one image. */
export interface ImageRecord {
  id: number;
  root: string;
  path: string;
  /** Absolute path on disk. */
  absPath: string;
  size: number;
  mtimeMs: number;
  hash: string;
  width: number;
  height: number;
  format: string;
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
}
