/** Similarity metric. `cosine` expects L2-normalised vectors (inner product); `l2` is Euclidean. */
export type Metric = 'cosine' | 'l2';

/**
 * How a backend keeps its data:
 * - `files`: the index lives in memory and is saved into a directory (`save(dir)`, `load(dir)`);
 *   the engine saves into fresh folders, switches a pointer, and deletes old folders.
 * - `remote`: the index lives in a server and is addressed by name (`open({ name })`); every
 *   acknowledged write is already stored there, `flush()` waits for buffered writes.
 */
export type Persistence = 'files' | 'remote';

/**
 * Nearest neighbours of one query, best first.
 * Scores: higher is better. For `cosine`: cosine similarity in [-1, 1]. For `l2`: the negated
 * squared Euclidean distance (≤ 0). Fewer than `k` entries when the index holds fewer vectors.
 */
export interface Neighbors {
  ids: number[];
  scores: number[];
}

/** A parameter value: numbers, strings (e.g. `'auto'`) and flags. */
export type ParamValue = number | string | boolean;

/**
 * Per-search tuning knobs (e.g. `{ nprobe: 16 }`, `{ efSearch: 128 }`, `{ ef_search: 40 }`).
 * Each backend declares the ones it honours in `capabilities.searchParams`; any other key is
 * rejected with `InvalidArgumentError` (see `checkSearchParams`). `K` narrows the keys for an
 * adapter that wants them typed.
 */
export type SearchParams<K extends string = string> = Readonly<Partial<Record<K, ParamValue>>>;

/** Declares one parameter a backend accepts (build or search), for validation, help and docs. */
export interface ParamSpec {
  readonly name: string;
  /** `integer` and `number` accept numeric strings from CLI flags. */
  readonly type: 'integer' | 'number' | 'string' | 'boolean';
  /** Inclusive bounds for numbers. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed strings (for `string`), or extra allowed strings for a number (e.g. `'auto'`). */
  readonly values?: readonly string[];
  /** Default, as shown in help. */
  readonly default?: ParamValue;
  /** One line for help and docs. */
  readonly description: string;
}

/** What a backend can do, declared up front instead of methods that throw "not implemented". */
export interface IndexCapabilities {
  /** Search returns the exact top-k (brute force). */
  readonly exact: boolean;
  /** `remove(ids)` is supported. */
  readonly remove: boolean;
  /** Per-search parameters this backend honours (anything else is rejected). */
  readonly searchParams: readonly ParamSpec[];
  /** Metrics this backend (or this index, given its build parameters) supports. */
  readonly metrics: readonly Metric[];
}

/** Members every index has, whatever its persistence. */
interface VectorIndexBase {
  /** Registered backend name (see `registerBackend`). */
  readonly backend: string;
  readonly persistence: Persistence;
  readonly dimension: number;
  readonly metric: Metric;
  readonly capabilities: IndexCapabilities;
  /**
   * Build parameters in effect (e.g. `{ M: 16, efConstruction: 200 }`), as saved in manifests and
   * the catalog. Never holds connection settings or secrets (see `checkNoSecrets`).
   */
  readonly params: Readonly<Record<string, number | string>>;
  /** Number of live vectors (removed ones excluded); 0 once closed. */
  readonly size: number;

  /** Adds (or replaces) `ids.length` vectors; `vectors.length` must be `ids.length × dimension`. */
  add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void>;
  /** Removes the given ids; unknown ids are ignored. Resolves to the number actually removed. */
  remove(ids: ArrayLike<number>): Promise<number>;
  /**
   * Top-`k` neighbours for each of the `queries.length / dimension` queries. `k` ≥ 1. `params`
   * keys must be among `capabilities.searchParams` (else `InvalidArgumentError`).
   */
  search(queries: Float32Array, k: number, params?: SearchParams): Promise<Neighbors[]>;
  /**
   * Releases native memory or connections once the operations already queued have settled.
   * Further calls reject with `ClosedError`. Idempotent.
   */
  close(): Promise<void>;
}

/** An index kept in memory and saved into a directory. */
export interface FileVectorIndex extends VectorIndexBase {
  readonly persistence: 'files';
  /** Writes the index into directory `dir` (created if needed) atomically: readers see the old or the new index, never a mix. */
  save(dir: string): Promise<void>;
}

/** An index that lives in a server, addressed by name. */
export interface RemoteVectorIndex extends VectorIndexBase {
  readonly persistence: 'remote';
  /** The index's name in the server (e.g. a table name). */
  readonly name: string;
  /** Resolves once every write made so far is durable in the server. */
  flush(): Promise<void>;
  /**
   * Optional: re-reads what other processes may have changed in the server (at least `size`), for
   * readers that follow an index written by others. Without it, `size` is as of open plus own writes.
   */
  refresh?(): Promise<void>;
}

/**
 * A vector index. Vectors are row-major `Float32Array`s of `n × dimension` floats.
 * Ids are non-negative integers ≤ 2^53−1 (`Number.MAX_SAFE_INTEGER`), returned unchanged.
 * Adding an id that is already present replaces its vector (upsert) on every backend.
 * The caller owns the index and must `await close()` to release native memory or connections.
 * Narrow on `persistence` to save (`files`) or flush (`remote`).
 */
export type VectorIndex = FileVectorIndex | RemoteVectorIndex;

/** Options for {@link createIndex}. */
export interface CreateIndexOptions {
  /** A registered backend name (see `listBackends()`). */
  backend: string;
  dimension: number;
  /** Default `cosine`. */
  metric?: Metric;
  /** Backend-specific build parameters, validated by the backend (e.g. `{ nlist: 1024 }`, `{ M: 16 }`). Never secrets. */
  params?: Record<string, number | string>;
}

/** What a factory receives: options with defaults applied. */
export interface ResolvedIndexOptions {
  dimension: number;
  metric: Metric;
  params: Record<string, number | string>;
}

/** The small JSON file (`manifest.json`) saved next to a `files` index's data files. */
export interface IndexManifest {
  format: 'pixsearch-index';
  /** Manifest format version. */
  version: 1;
  backend: string;
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

/** What every backend declares when it registers. */
interface BackendFactoryBase {
  /** The name users pick it by (`--backend <name>`): lowercase letters, digits and dashes. */
  readonly name: string;
  /** npm package and version of the underlying library, for manifests and reports. */
  readonly library: string;
  /** One line for `--help` and docs. */
  readonly description: string;
  /** What its indexes can do (an index may narrow `metrics` given its build parameters). */
  readonly capabilities: IndexCapabilities;
  /** Build parameters it accepts (documentation; the backend validates them). */
  readonly buildParams: readonly ParamSpec[];
}

/** A backend whose indexes are saved into directories. */
export interface FileBackendFactory extends BackendFactoryBase {
  readonly persistence: 'files';
  create(options: ResolvedIndexOptions): Promise<FileVectorIndex>;
  /** Loads an index saved by `save()`; throws `IndexCorruptError` on any inconsistency. */
  load(dir: string, manifest: IndexManifest): Promise<FileVectorIndex>;
}

/** Options of {@link RemoteBackendFactory.open}. */
export interface RemoteIndexOptions extends ResolvedIndexOptions {
  /** The index's name in the server (letters, digits, `_`; at most 48 characters). */
  name: string;
  /** The connection string, read from the environment at run time; never saved anywhere. */
  connection: string;
}

/** A backend whose indexes live in a server and are addressed by name. */
export interface RemoteBackendFactory extends BackendFactoryBase {
  readonly persistence: 'remote';
  /** Environment variable the connection string is read from by default (e.g. `PIXSEARCH_PG_URL`). */
  readonly connectionEnv: string;
  /** Opens index `name`, creating it empty when missing. Throws `IndexCorruptError` when it exists with another dimension or metric. */
  open(options: RemoteIndexOptions): Promise<RemoteVectorIndex>;
  /** Deletes index `name` (nothing when it does not exist). */
  drop(options: { name: string; connection: string }): Promise<void>;
}

/** What an adapter registers for each backend it implements (`registerBackend`). */
export type BackendFactory = FileBackendFactory | RemoteBackendFactory;
