/** Similarity metric. `cosine` expects L2-normalised vectors (inner product); `l2` is Euclidean. */
export type Metric = 'cosine' | 'l2';

/** Backend names understood by {@link createIndex}. */
export type BackendName = 'faiss-flat' | 'faiss-ivf' | 'hnswlib' | 'usearch';

/**
 * Nearest neighbours of one query, best first.
 * Scores: higher is better. For `cosine`: cosine similarity in [-1, 1]. For `l2`: the negated
 * squared Euclidean distance (≤ 0). Fewer than `k` entries when the index holds fewer vectors.
 */
export interface Neighbors {
  ids: number[];
  scores: number[];
}

/** Per-search tuning knobs; each backend reads the ones it declares in `capabilities.searchParams`. */
export interface SearchParams {
  /** IVF: number of inverted lists probed, 1..nlist. */
  nprobe?: number;
  /** hnswlib: size of the dynamic candidate list (efSearch), ≥ k. */
  efSearch?: number;
  /** USearch: expansion (its efSearch). */
  expansion?: number;
}

/** What a backend can do, declared up front instead of methods that throw "not implemented". */
export interface IndexCapabilities {
  /** Search returns the exact top-k (brute force). */
  readonly exact: boolean;
  /** `remove(ids)` is supported. */
  readonly remove: boolean;
  /** Names of {@link SearchParams} fields this backend honours. */
  readonly searchParams: readonly (keyof SearchParams)[];
  /** Metrics this backend supports. */
  readonly metrics: readonly Metric[];
}

/**
 * A vector index. Vectors are row-major `Float32Array`s of `n × dimension` floats.
 * Ids are non-negative integers ≤ 2^53−1 (`Number.MAX_SAFE_INTEGER`), returned unchanged.
 * Adding an id that is already present replaces its vector (upsert) on every backend.
 * The caller owns the index and must call `close()` to release native memory.
 */
export interface VectorIndex {
  readonly backend: BackendName;
  readonly dimension: number;
  readonly metric: Metric;
  readonly capabilities: IndexCapabilities;
  /** Backend parameters in effect (e.g. `{ M: 16, efConstruction: 200 }`), as saved in the manifest. */
  readonly params: Readonly<Record<string, number | string>>;
  /** Number of live vectors (removed ones excluded). */
  readonly size: number;

  /** Adds (or replaces) `ids.length` vectors; `vectors.length` must be `ids.length × dimension`. */
  add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void>;
  /** Removes the given ids; unknown ids are ignored. Resolves to the number actually removed. */
  remove(ids: ArrayLike<number>): Promise<number>;
  /** Top-`k` neighbours for each of the `queries.length / dimension` queries. `k` ≥ 1. */
  search(queries: Float32Array, k: number, params?: SearchParams): Promise<Neighbors[]>;
  /** True when `id` is present. */
  has(id: number): boolean;
  /** Writes the index into directory `dir` (created if needed) atomically: readers see the old or the new index, never a mix. */
  save(dir: string): Promise<void>;
  /** Releases native resources. Further calls throw `ClosedError`. Idempotent. */
  close(): void;
}

/** Options for {@link createIndex}. */
export interface CreateIndexOptions {
  backend: BackendName;
  dimension: number;
  /** Default `cosine`. */
  metric?: Metric;
  /** Backend-specific build parameters, validated by the backend (e.g. `{ nlist: 1024 }`, `{ M: 16 }`). */
  params?: Record<string, number | string>;
}

/** The small JSON file (`manifest.json`) saved next to an index's data files. */
export interface IndexManifest {
  format: 'pixsearch-index';
  /** Manifest format version. */
  version: 1;
  backend: BackendName;
  /** Version of the library that wrote the data files, e.g. `faiss-node@0.5.1`. */
  library: string;
  dimension: number;
  metric: Metric;
  params: Record<string, number | string>;
  /** Live vectors. */
  count: number;
  /** Data files: logical name → file name in the directory, byte size and SHA-256. */
  files: Record<string, { file: string; bytes: number; sha256: string }>;
  /** Backend-private extra state (small). */
  extra?: Record<string, unknown>;
  /** ISO time of the save. */
  savedAt: string;
}

/** What an adapter package registers for each backend it implements. */
export interface BackendFactory {
  readonly name: BackendName;
  /** npm package and version of the underlying library, for manifests and reports. */
  readonly library: string;
  create(options: Required<Omit<CreateIndexOptions, 'params'>> & { params: Record<string, number | string> }): Promise<VectorIndex>;
  /** Loads an index saved by `save()`; throws `IndexCorruptError` on any inconsistency. */
  load(dir: string, manifest: IndexManifest): Promise<VectorIndex>;
}
