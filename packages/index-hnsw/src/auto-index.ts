import {
  checkGeometry,
  checkSearchParams,
  ClosedError,
  IndexCorruptError,
  SerialQueue,
  type FileBackendFactory,
  type FileVectorIndex,
  type IndexCapabilities,
  type IndexManifest,
  type Metric,
  type Neighbors,
  type SearchParams,
} from '@pixsearch/core';
import { ExactIndex } from './exact-index.js';
import { intParam, rejectUnknownParams, type RawParams } from './params.js';
import { UsearchHost } from './usearch-host.js';
import { MAX_EXPANSION, USEARCH_CAPABILITIES, USEARCH_DEFAULTS, USEARCH_LIBRARY } from './usearch-index.js';

/** Build parameters of the `auto` backend. */
export interface AutoParams {
  /**
   * Most vectors searched exactly; above it the index becomes HNSW (USearch). 0 = derived from
   * the dimension: {@link AUTO_EXACT_BYTES} of f32 vectors (146 484 at 512-d). Default 0.
   */
  threshold: number;
  /** Threads for the exact scan and HNSW batches; 0 = one per core. Default 0. */
  threads: number;
  /** HNSW graph degree (USearch connectivity, M). Default 16. */
  connectivity: number;
  /** HNSW efConstruction. Default 128. */
  expansion_add: number;
  /** HNSW default efSearch (per search: `{ expansion }`). Default 64. */
  expansion_search: number;
}

/**
 * Bytes of f32 vectors the exact scan covers before `auto` switches to HNSW: the scan reads
 * them all per query, so this bounds its latency. Measured on 2 Zen 4 cores, the scan reads
 * ~25-40 GB/s: 300 MB take ~8-12 ms, within the engine's 15 ms text-query budget with the
 * ~5 ms quantized ViT-B/32 text tower (benchmarks/results, README "Backends").
 */
export const AUTO_EXACT_BYTES = 300_000_000;

export const AUTO_DEFAULTS: Readonly<AutoParams> = {
  threshold: 0,
  threads: 0,
  connectivity: USEARCH_DEFAULTS.connectivity,
  expansion_add: USEARCH_DEFAULTS.expansion_add,
  expansion_search: USEARCH_DEFAULTS.expansion_search,
};

/** Parses and validates `auto` parameters. */
export function parseAutoParams(raw: RawParams): AutoParams {
  rejectUnknownParams('auto', raw, Object.keys(AUTO_DEFAULTS));
  return {
    threshold: intParam(raw, 'threshold', AUTO_DEFAULTS.threshold, 0, Number.MAX_SAFE_INTEGER),
    threads: intParam(raw, 'threads', AUTO_DEFAULTS.threads, 0, 256),
    connectivity: intParam(raw, 'connectivity', AUTO_DEFAULTS.connectivity, 2, 1024),
    expansion_add: intParam(raw, 'expansion_add', AUTO_DEFAULTS.expansion_add, 1, 100_000),
    expansion_search: intParam(raw, 'expansion_search', AUTO_DEFAULTS.expansion_search, 1, 100_000),
  };
}

/** The exact-search limit in vectors for `params` at `dimension`. */
export function autoThreshold(params: AutoParams, dimension: number): number {
  return params.threshold > 0 ? params.threshold : Math.max(1, Math.floor(AUTO_EXACT_BYTES / (4 * dimension)));
}

type Mode = 'exact' | 'usearch';

/** What the `auto` backend can do (approximate once it is HNSW); `expansion` applies to HNSW mode. */
export const AUTO_CAPABILITIES: IndexCapabilities = Object.freeze({
  exact: false,
  remove: true,
  searchParams: Object.freeze([
    Object.freeze({
      name: 'expansion',
      type: 'integer',
      min: 1,
      max: MAX_EXPANSION,
      description: 'HNSW mode: candidate list size (efSearch, raised to k); ignored while the index is searched exactly',
    } as const),
  ]),
  metrics: USEARCH_CAPABILITIES.metrics,
});
const AUTO_EXACT_CAPABILITIES: IndexCapabilities = Object.freeze({ ...AUTO_CAPABILITIES, exact: true });
type Inner = ExactIndex | UsearchHost;

/**
 * The exact scan of `auto` reads i8 codes and re-ranks the best k × 4 (at least 32) with the f32
 * vectors when the metric is cosine: a quarter of the bytes per query, scores still f32, and
 * recall@10 1.0000 against f32 in the conformance suite (20k × 512) and the exact-scan benchmark
 * (100k × 512, 40/40 identical top-10). It is what lets one 2-core server answer ≥ 100 uncached
 * text queries/s at 100k (README, server throughput). Other metrics scan f32. The stored file is
 * the same f32 vectors either way, so libraries saved before keep loading as they are.
 */
const exactParams = (p: AutoParams, metric: Metric) => ({ threads: p.threads, quantization: metric === 'cosine' ? ('i8' as const) : ('f32' as const) });
const hnswParams = (p: AutoParams) => ({ connectivity: p.connectivity, expansion_add: p.expansion_add, expansion_search: p.expansion_search, threads: p.threads });

/**
 * `auto` backend (the default): exact search (the `exact` backend) while the index holds at
 * most `threshold` vectors, HNSW (the `usearch` backend) above it. Crossing the threshold moves
 * the stored vectors into a new HNSW graph inside the add that crossed it (no re-embedding);
 * searches meanwhile keep using the exact index. The index stays HNSW if it shrinks again (a
 * rebuild from the catalog starts exact). `{ expansion }` is honoured in HNSW mode and
 * ignored by the exact scan, which has nothing to tune.
 *
 * The caller owns the index and must `close()` it.
 */
export class AutoIndex implements FileVectorIndex {
  readonly backend = 'auto' as const;
  readonly persistence = 'files' as const;
  readonly params: Readonly<AutoParams>;
  /** Vectors above which the index is HNSW. */
  readonly threshold: number;
  private readonly queue = new SerialQueue();
  private closed = false;

  private constructor(
    private inner: Inner,
    readonly dimension: number,
    readonly metric: Metric,
    params: AutoParams,
  ) {
    this.params = Object.freeze({ ...params });
    this.threshold = autoThreshold(params, dimension);
  }

  static async create(dimension: number, metric: Metric, rawParams: RawParams = {}): Promise<AutoIndex> {
    checkGeometry(dimension, metric);
    const params = parseAutoParams(rawParams);
    return new AutoIndex(await ExactIndex.create(dimension, metric, exactParams(params, metric)), dimension, metric, params);
  }

  static async load(dir: string, manifest: IndexManifest): Promise<AutoIndex> {
    if (manifest.backend !== 'auto') throw new IndexCorruptError(dir, `manifest is for backend "${manifest.backend}", not auto`);
    let params: AutoParams;
    try {
      checkGeometry(manifest.dimension, manifest.metric);
      params = parseAutoParams(manifest.params);
    } catch (cause) {
      throw new IndexCorruptError(dir, `manifest parameters are invalid: ${(cause as Error).message}`, { cause });
    }
    const mode = manifest.extra?.mode;
    if (mode !== 'exact' && mode !== 'usearch') throw new IndexCorruptError(dir, `manifest names no valid auto mode (${JSON.stringify(mode)})`);
    const inner: IndexManifest = { ...manifest, backend: mode, params: mode === 'exact' ? exactParams(params, manifest.metric) : hnswParams(params) };
    const index = mode === 'exact' ? await ExactIndex.load(dir, inner) : await UsearchHost.load(dir, inner);
    return new AutoIndex(index, manifest.dimension, manifest.metric, params);
  }

  /** `exact` up to the threshold, `usearch` (HNSW) above it. */
  get mode(): Mode {
    return this.inner instanceof ExactIndex ? 'exact' : 'usearch';
  }

  get capabilities(): IndexCapabilities {
    return this.inner instanceof ExactIndex && this.inner.capabilities.exact ? AUTO_EXACT_CAPABILITIES : AUTO_CAPABILITIES;
  }

  get size(): number {
    return this.closed ? 0 : this.inner.size;
  }

  async add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    this.assertOpen();
    await this.queue.run(async () => {
      this.assertOpen();
      // Move to HNSW before the batch lands, so a big batch goes straight into the graph.
      if (this.inner instanceof ExactIndex && this.inner.size + ids.length > this.threshold) await this.switchToHnsw();
      await this.inner.add(ids, vectors);
    });
  }

  async remove(ids: ArrayLike<number>): Promise<number> {
    this.assertOpen();
    return this.queue.run(() => this.inner.remove(ids));
  }

  async search(queries: Float32Array, k: number, params: SearchParams = {}): Promise<Neighbors[]> {
    this.assertOpen();
    const checked = checkSearchParams(this.backend, AUTO_CAPABILITIES.searchParams, params);
    // The exact scan has nothing to tune: `expansion` only matters to the graph.
    return this.inner instanceof ExactIndex ? this.inner.search(queries, k) : this.inner.search(queries, k, checked);
  }

  async save(dir: string): Promise<void> {
    this.assertOpen();
    await this.queue.run(() => this.inner.saveAs(dir, { backend: 'auto', params: { ...this.params }, extra: { mode: this.mode } }));
  }

  /** Holds the workers of the current mode until released (see `ExactIndex.suspend`). */
  async suspend(): Promise<() => Promise<void>> {
    this.assertOpen();
    return this.inner.suspend();
  }

  /** Resolves when the next search is posted to the current mode's workers (see `ExactIndex.nextSearch`). */
  nextSearch(): Promise<void> {
    return this.inner.nextSearch();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.idle();
    await this.inner.close();
  }

  private async switchToHnsw(): Promise<void> {
    const exact = this.inner as ExactIndex;
    const hnsw = await UsearchHost.create(this.dimension, this.metric, hnswParams(this.params));
    try {
      await exact.exportRows((ids, vectors) => hnsw.add(ids, vectors));
    } catch (err) {
      await hnsw.close();
      throw err;
    }
    this.inner = hnsw;
    // Searches already posted to the exact index finish before its workers end.
    await exact.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('auto index');
  }
}

/** Registry entry for the `auto` backend. */
export const autoBackend: FileBackendFactory = {
  name: 'auto',
  persistence: 'files',
  description: 'the default: exact search (the exact backend) up to a size where it stays fast, USearch HNSW above it; both off the main thread',
  library: USEARCH_LIBRARY,
  capabilities: AUTO_CAPABILITIES,
  buildParams: [
    { name: 'threshold', type: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, default: 0, description: 'most vectors searched exactly; 0 = 300 MB of f32 vectors (146 484 at 512-d)' },
    { name: 'threads', type: 'integer', min: 0, max: 256, default: 0, description: 'threads for the exact scan and HNSW batches; 0 = one per core' },
    { name: 'connectivity', type: 'integer', min: 2, max: 1024, default: AUTO_DEFAULTS.connectivity, description: 'HNSW graph degree (M)' },
    { name: 'expansion_add', type: 'integer', min: 1, max: MAX_EXPANSION, default: AUTO_DEFAULTS.expansion_add, description: 'HNSW candidate list size while inserting' },
    { name: 'expansion_search', type: 'integer', min: 1, max: MAX_EXPANSION, default: AUTO_DEFAULTS.expansion_search, description: 'HNSW default candidate list size while searching' },
  ],
  create: ({ dimension, metric, params }) => AutoIndex.create(dimension, metric, params),
  load: (dir, manifest) => AutoIndex.load(dir, manifest),
};
