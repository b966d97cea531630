import {
  checkGeometry,
  checkIds,
  checkK,
  checkSearchParams,
  checkVectors,
  ClosedError,
  IndexCorruptError,
  indexDataFile,
  InvalidArgumentError,
  saveIndexDir,
  SerialQueue,
  YIELD_EVERY_MS,
  yieldToEventLoop,
  type FileBackendFactory,
  type FileVectorIndex,
  type IndexCapabilities,
  type IndexManifest,
  type Metric,
  type Neighbors,
  type SearchParams,
} from '@pixsearch/core';
import { availableParallelism } from 'node:os';
import { fsyncFile } from './binary-reader.js';
import type { ManifestHeader } from './manifest-header.js';
import { enumParam, intParam, rejectUnknownParams, type RawParams } from './params.js';
import { validateUsearchFile, type UsearchMetric, type UsearchScalar } from './usearch-format.js';
import { loadUsearchAddon, quantizeRowsI8, type UsearchCompiledIndex } from './usearch-native.js';

/** npm package and version of the library behind this backend. */
export const USEARCH_LIBRARY = 'usearch@2.26.2';

/** Build and search parameters of the `usearch` backend. */
export interface UsearchParams {
  /** Graph degree (USearch's M). 2..1024, default 16. */
  connectivity: number;
  /** Candidate list size while inserting (efConstruction). 1..100000, default 128. */
  expansion_add: number;
  /** Default candidate list size while searching (efSearch), raised to k. 1..100000, default 64. */
  expansion_search: number;
  /** Stored scalar kind: `f32` (exact vectors), `f16` (half the memory), `i8` (a quarter; cosine only). */
  quantization: UsearchScalar;
  /** Threads for batch add/search; 0 = all cores (larger values are capped at the core count). Default 0. */
  threads: number;
}

/** Defaults: recall@10 ≥ 0.95 on 20k clustered 512-d unit vectors (see the conformance suite). */
export const USEARCH_DEFAULTS: Readonly<UsearchParams> = {
  connectivity: 16,
  expansion_add: 128,
  expansion_search: 64,
  quantization: 'f32',
  threads: 0,
};

export const MAX_EXPANSION = 100_000;

const USEARCH_SEARCH_PARAMS = Object.freeze([
  Object.freeze({ name: 'expansion', type: 'integer', min: 1, max: MAX_EXPANSION, description: 'candidate list size (efSearch, raised to k); default: the expansion_search build parameter' } as const),
]);

/** What the `usearch` backend can do; an index with `i8` quantization supports `cosine` only. */
export const USEARCH_CAPABILITIES: IndexCapabilities = Object.freeze({
  exact: false,
  remove: true,
  searchParams: USEARCH_SEARCH_PARAMS,
  metrics: Object.freeze(['cosine', 'l2'] as const),
});

export const USEARCH_I8_CAPABILITIES: IndexCapabilities = Object.freeze({ ...USEARCH_CAPABILITIES, metrics: Object.freeze(['cosine'] as const) });
/** Rows per native add/search call; the event loop gets a turn between calls. */
const ADD_CHUNK_ROWS = 4096;
const MIN_ADD_CHUNK_ROWS = 32;
const SEARCH_CHUNK_ROWS = 1024;
const SERIAL_PREFIX_ROWS = 1024;
/** Result slots (12 bytes each) one native search call may allocate. */
const MAX_RESULT_SLOTS = 1 << 20;
const SCALARS: readonly UsearchScalar[] = ['f32', 'f16', 'i8'];

/** Parses and validates `usearch` parameters (`dtype` is accepted as an alias of `quantization`). */
export function parseUsearchParams(raw: RawParams, metric: Metric): UsearchParams {
  rejectUnknownParams('usearch', raw, ['connectivity', 'expansion_add', 'expansion_search', 'quantization', 'dtype', 'threads']);
  if (raw.dtype !== undefined && raw.quantization !== undefined && raw.dtype !== raw.quantization) {
    throw new InvalidArgumentError('give either quantization or dtype, not both');
  }
  const quantization = enumParam(raw.dtype !== undefined ? { quantization: raw.dtype } : raw, 'quantization', USEARCH_DEFAULTS.quantization, SCALARS);
  if (quantization === 'i8' && metric !== 'cosine') {
    // i8 codes are each row scaled to max |component| 127 (see quantizeRowsI8): only angles survive.
    throw new InvalidArgumentError('usearch quantization "i8" supports metric "cosine" only');
  }
  return {
    connectivity: intParam(raw, 'connectivity', USEARCH_DEFAULTS.connectivity, 2, 1024),
    expansion_add: intParam(raw, 'expansion_add', USEARCH_DEFAULTS.expansion_add, 1, MAX_EXPANSION),
    expansion_search: intParam(raw, 'expansion_search', USEARCH_DEFAULTS.expansion_search, 1, MAX_EXPANSION),
    quantization,
    threads: intParam(raw, 'threads', USEARCH_DEFAULTS.threads, 0, 1024),
  };
}

function usearchMetric(metric: Metric): Extract<UsearchMetric, 'cos' | 'l2sq'> {
  return metric === 'cosine' ? 'cos' : 'l2sq';
}

function createNative(dimension: number, metric: Metric, p: UsearchParams): UsearchCompiledIndex {
  const { CompiledIndex } = loadUsearchAddon();
  // USearch fixes expansion_search at construction and does not store it in files. Its search
  // uses max(expansion_search, wanted) candidates and keeps the best `wanted`, so with 1 here,
  // asking for max(k, expansion) results and keeping k is exactly a search with that expansion:
  // every per-search value is honoured without rebuilding or reloading the index.
  return new CompiledIndex(dimension, usearchMetric(metric), p.quantization, p.connectivity, p.expansion_add, 1, false);
}

/**
 * `usearch` backend: USearch's HNSW (`index_dense`) with 64-bit keys. Approximate search.
 *
 * - Metrics: `cosine` uses USearch `cos` (score = 1 − distance, cosine similarity); `l2` uses
 *   `l2sq` (score = −squared distance). `i8` quantization is cosine-only: each row is scaled to
 *   max |component| 127 and rounded here (USearch's own cast would keep a few levels per axis).
 * - Talks to USearch's native `CompiledIndex` (see usearch-native.ts), not its JS wrapper.
 * - Ids are USearch keys (BigInt), exact up to 2^53−1. Adding an existing id removes its old
 *   vector first (upsert); within one batch the last occurrence wins.
 * - Removal leaves tombstones that later adds reuse.
 * - Per-search `expansion` (SearchParams.expansion) is honoured exactly; see `createNative`.
 * - Adds and searches run in batches on `threads` native threads (0 = all cores); the calls
 *   block, in chunks of a few thousand rows with event-loop turns between them.
 *
 * The caller owns the index and must `close()` it. USearch's binding has no explicit free:
 * `close()` drops the native object and its memory is reclaimed by the garbage collector.
 */
export class UsearchIndex implements FileVectorIndex {
  readonly backend = 'usearch' as const;
  readonly persistence = 'files' as const;
  readonly capabilities: IndexCapabilities;
  readonly params: Readonly<UsearchParams>;

  private native: UsearchCompiledIndex | null;
  /** Native thread count: 0 (all cores) or params.threads capped at the core count. */
  private readonly threads: number;
  private readonly queue = new SerialQueue();
  private closed = false;

  private constructor(
    native: UsearchCompiledIndex,
    readonly dimension: number,
    readonly metric: Metric,
    params: UsearchParams,
  ) {
    this.native = native;
    this.params = Object.freeze({ ...params });
    this.capabilities = params.quantization === 'i8' ? USEARCH_I8_CAPABILITIES : USEARCH_CAPABILITIES;
    // USearch keeps one search context per thread, sized to the core count on load: asking a
    // loaded index for more threads than that fails ("Reserve capacity ahead of searches!").
    this.threads = params.threads === 0 ? 0 : Math.min(params.threads, availableParallelism());
  }

  /** Creates an empty index. */
  static async create(dimension: number, metric: Metric, rawParams: RawParams = {}): Promise<UsearchIndex> {
    checkGeometry(dimension, metric);
    const params = parseUsearchParams(rawParams, metric);
    return new UsearchIndex(createNative(dimension, metric, params), dimension, metric, params);
  }

  /** Loads an index saved by {@link save}. Throws `IndexCorruptError` on any inconsistency. */
  static async load(dir: string, manifest: IndexManifest): Promise<UsearchIndex> {
    if (manifest.backend !== 'usearch') throw new IndexCorruptError(dir, `manifest is for backend "${manifest.backend}", not usearch`);
    let params: UsearchParams;
    try {
      checkGeometry(manifest.dimension, manifest.metric);
      params = parseUsearchParams(manifest.params, manifest.metric);
    } catch (cause) {
      throw new IndexCorruptError(dir, `manifest parameters are invalid: ${(cause as Error).message}`, { cause });
    }
    const graphFile = await indexDataFile(dir, manifest, 'graph');
    try {
      await validateUsearchFile(graphFile, {
        dimension: manifest.dimension,
        metric: usearchMetric(manifest.metric),
        scalar: params.quantization,
        connectivity: params.connectivity,
        count: manifest.count,
      });
    } catch (cause) {
      throw new IndexCorruptError(dir, (cause as Error).message, { cause });
    }
    const native = createNative(manifest.dimension, manifest.metric, params);
    try {
      native.load(graphFile);
    } catch (cause) {
      throw new IndexCorruptError(dir, `usearch cannot read the graph: ${(cause as Error).message}`, { cause });
    }
    if (native.size() !== manifest.count || native.dimensions() !== manifest.dimension) {
      throw new IndexCorruptError(dir, 'the graph read back differs from the validated file');
    }
    return new UsearchIndex(native, manifest.dimension, manifest.metric, params);
  }

  get size(): number {
    return this.open().size();
  }

  has(id: number): boolean {
    const native = this.open();
    if (!Number.isSafeInteger(id) || id < 0) return false;
    return native.contains(BigUint64Array.of(BigInt(id)))[0] === true;
  }

  async add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    this.assertOpen();
    checkIds(ids);
    checkVectors(vectors, this.dimension, ids.length);
    await this.queue.run(async () => {
      this.assertOpen();
      // USearch rejects duplicate keys (and may insert twice when one batch repeats a key
      // across threads): keep the last occurrence of each id.
      const lastRow = new Map<number, number>();
      for (let i = 0; i < ids.length; i++) lastRow.set(ids[i]!, i);
      const rows: number[] = [];
      const unique = lastRow.size === ids.length;
      if (!unique) for (let i = 0; i < ids.length; i++) if (lastRow.get(ids[i]!) === i) rows.push(i);
      const total = unique ? ids.length : rows.length;
      const d = this.dimension;
      let since = performance.now();
      let chunkRows = MIN_ADD_CHUNK_ROWS;
      for (let start = 0, n = 0; start < total; start += n) {
        const native = this.open();
        // Parallel inserts into a tiny graph race (new nodes miss each other and end up
        // unreachable), so the first SERIAL_PREFIX_ROWS nodes go in one per call. Each call
        // still names the full thread count: USearch sizes its per-thread search contexts from
        // the thread count of the add that last grew the index.
        // Past the prefix, chunks are sized so one native call takes about YIELD_EVERY_MS (the
        // event loop gets a turn after each): 4096 rows of 512-d take seconds on 2 cores.
        n = Math.min(native.size() < SERIAL_PREFIX_ROWS ? 1 : chunkRows, total - start);
        const began = performance.now();
        const keys = new BigUint64Array(n);
        let chunk: Float32Array;
        if (unique) {
          for (let i = 0; i < n; i++) keys[i] = BigInt(ids[start + i]!);
          chunk = vectors.subarray(start * d, (start + n) * d);
        } else {
          chunk = new Float32Array(n * d);
          for (let i = 0; i < n; i++) {
            const row = rows[start + i]!;
            keys[i] = BigInt(ids[row]!);
            chunk.set(vectors.subarray(row * d, (row + 1) * d), i * d);
          }
        }
        // Upsert: drop the old vectors of ids already present.
        const present = native.contains(keys);
        const stale = keys.filter((_, i) => present[i]);
        if (stale.length > 0) native.remove(stale);
        native.add(keys, this.params.quantization === 'i8' ? quantizeRowsI8(chunk, d) : chunk, this.threads);
        if (n > 1) {
          const msPerRow = (performance.now() - began) / n;
          chunkRows = Math.max(MIN_ADD_CHUNK_ROWS, Math.min(ADD_CHUNK_ROWS, Math.round(YIELD_EVERY_MS / Math.max(msPerRow, 1e-3))));
        }
        if (start + n < total && (n > 1 || performance.now() - since > YIELD_EVERY_MS)) {
          await yieldToEventLoop();
          since = performance.now();
        }
      }
    });
  }

  async remove(ids: ArrayLike<number>): Promise<number> {
    this.assertOpen();
    checkIds(ids);
    return this.queue.run(async () => {
      const native = this.open();
      if (ids.length === 0) return 0;
      const keys = new BigUint64Array(ids.length);
      for (let i = 0; i < ids.length; i++) keys[i] = BigInt(ids[i]!);
      const counts = native.remove(keys);
      let removed = 0;
      for (const c of counts) removed += c;
      return removed;
    });
  }

  async search(queries: Float32Array, k: number, params: SearchParams = {}): Promise<Neighbors[]> {
    this.assertOpen();
    checkK(k);
    const rows = checkVectors(queries, this.dimension);
    const expansion = (checkSearchParams(this.backend, this.capabilities.searchParams, params).expansion as number | undefined) ?? this.params.expansion_search;
    const d = this.dimension;
    const cosine = this.metric === 'cosine';
    const out: Neighbors[] = [];
    for (let start = 0, n = 0; start < rows; start += n) {
      const native = this.open();
      const kk = Math.min(k, native.size());
      if (kk === 0) {
        n = rows - start;
        for (let i = 0; i < n; i++) out.push({ ids: [], scores: [] });
        continue;
      }
      // See createNative: asking for `wanted` results searches with max(expansion, k) candidates.
      // When k covers every live vector, widen the search to every slot (tombstones included)
      // so that the graph walk returns all of them, as an exact index would.
      const wanted = Math.max(kk, expansion, kk === native.size() ? native.capacity() : 0);
      // USearch returns queries × wanted keys and distances: bound that per call.
      n = Math.min(rows - start, Math.max(1, Math.min(SEARCH_CHUNK_ROWS, Math.floor(MAX_RESULT_SLOTS / wanted))));
      const chunk = queries.subarray(start * d, (start + n) * d);
      const [keys, distances, counts] = native.search(this.params.quantization === 'i8' ? quantizeRowsI8(chunk, d) : chunk, wanted, this.threads);
      for (let q = 0; q < n; q++) {
        const base = q * wanted;
        const m = Math.min(kk, Number(counts[q]));
        const ids = new Array<number>(m);
        const scores = new Array<number>(m);
        for (let i = 0; i < m; i++) {
          ids[i] = Number(keys[base + i]!);
          const dist = distances[base + i]!;
          scores[i] = cosine ? 1 - dist : -dist;
        }
        out.push({ ids, scores });
      }
      if (start + n < rows) await yieldToEventLoop();
    }
    return out;
  }

  async save(dir: string): Promise<void> {
    await this.saveAs(dir, { backend: 'usearch', params: { ...this.params } });
  }

  /** Saves with another backend's manifest header (the `auto` backend wraps this index). */
  async saveAs(dir: string, header: ManifestHeader): Promise<void> {
    this.assertOpen();
    await this.queue.run(async () => {
      const native = this.open();
      const count = native.size();
      await saveIndexDir(
        dir,
        {
          ...header,
          library: `usearch@${loadUsearchAddon().version()}`,
          dimension: this.dimension,
          metric: this.metric,
          count,
        },
        {
          graph: async (tmp) => {
            native.save(tmp);
            await fsyncFile(tmp);
            // Check the file before it replaces a good one.
            await validateUsearchFile(tmp, {
              dimension: this.dimension,
              metric: usearchMetric(this.metric),
              scalar: this.params.quantization,
              connectivity: this.params.connectivity,
              count,
            });
          },
        },
      );
    });
  }

  /** Drops the native object once queued operations have settled (its memory goes with the garbage collector). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.idle();
    this.native = null;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('usearch index');
  }

  private open(): UsearchCompiledIndex {
    if (this.closed || !this.native) throw new ClosedError('usearch index');
    return this.native;
  }
}

/** Registry entry for the `usearch` backend. */
export const usearchBackend: FileBackendFactory = {
  name: 'usearch',
  persistence: 'files',
  description: 'USearch HNSW (f32, f16 or i8 vectors): approximate, multi-threaded batches, per-search expansion',
  library: USEARCH_LIBRARY,
  capabilities: USEARCH_CAPABILITIES,
  buildParams: [
    { name: 'connectivity', type: 'integer', min: 2, max: 1024, default: USEARCH_DEFAULTS.connectivity, description: 'graph degree (M)' },
    { name: 'expansion_add', type: 'integer', min: 1, max: MAX_EXPANSION, default: USEARCH_DEFAULTS.expansion_add, description: 'candidate list size while inserting' },
    { name: 'expansion_search', type: 'integer', min: 1, max: MAX_EXPANSION, default: USEARCH_DEFAULTS.expansion_search, description: 'default candidate list size while searching' },
    { name: 'quantization', type: 'string', values: ['f32', 'f16', 'i8'], default: USEARCH_DEFAULTS.quantization, description: 'stored scalar kind (alias dtype); i8 is cosine-only' },
    { name: 'threads', type: 'integer', min: 0, max: 1024, default: USEARCH_DEFAULTS.threads, description: 'threads for batch add/search; 0 = all cores' },
  ],
  create: ({ dimension, metric, params }) => UsearchIndex.create(dimension, metric, params),
  load: (dir, manifest) => UsearchIndex.load(dir, manifest),
};
