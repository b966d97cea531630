import type * as HnswlibNode from 'hnswlib-node';
import type { HierarchicalNSW } from 'hnswlib-node';
import {
  checkGeometry,
  checkIds,
  checkK,
  checkSearchParams,
  checkVectors,
  ClosedError,
  DependencyMissingError,
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
import { fsyncFile } from './binary-reader.js';
import { validateHnswlibFile } from './hnswlib-format.js';
import { LabelMap } from './id-map.js';
import { intParam, rejectUnknownParams, type RawParams } from './params.js';

/** npm package and version of the library behind this backend. */
export const HNSWLIB_LIBRARY = 'hnswlib-node@3.0.0';
/** Seed of hnswlib's level generator (its own default), fixed so that a build is reproducible. */
export const HNSWLIB_SEED = 100;

/** Build and search parameters of the `hnswlib` backend. */
export interface HnswlibParams {
  /** Graph degree (links per node per level; level 0 gets 2·M). 2..1024, default 16. */
  M: number;
  /** Candidate list size while inserting. 1..100000, default 200. */
  efConstruction: number;
  /** Default candidate list size while searching (raised to k when smaller). 1..100000, default 64. */
  efSearch: number;
}

/** Defaults: recall@10 ≥ 0.95 on 20k clustered 512-d unit vectors (see the conformance suite). */
export const HNSWLIB_DEFAULTS: Readonly<HnswlibParams> = { M: 16, efConstruction: 200, efSearch: 64 };

const MAX_EF = 100_000;

/** What the `hnswlib` backend can do. */
export const HNSWLIB_CAPABILITIES: IndexCapabilities = Object.freeze({
  exact: false,
  remove: true,
  searchParams: Object.freeze([
    Object.freeze({ name: 'efSearch', type: 'integer', min: 1, max: MAX_EF, description: 'candidate list size (raised to k); default: the efSearch build parameter' } as const),
  ]),
  metrics: Object.freeze(['cosine', 'l2'] as const),
});

/** hnswlib-node labels are `uint32`. */
const MAX_LABEL = 0xffffffff - 1;
const INITIAL_CAPACITY = 1024;

/** Parses and validates `hnswlib` parameters (unknown keys are rejected). */
export function parseHnswlibParams(raw: RawParams): HnswlibParams {
  rejectUnknownParams('hnswlib', raw, ['M', 'efConstruction', 'efSearch']);
  return {
    M: intParam(raw, 'M', HNSWLIB_DEFAULTS.M, 2, 1024),
    efConstruction: intParam(raw, 'efConstruction', HNSWLIB_DEFAULTS.efConstruction, 1, MAX_EF),
    efSearch: intParam(raw, 'efSearch', HNSWLIB_DEFAULTS.efSearch, 1, MAX_EF),
  };
}

type HnswlibModule = typeof HnswlibNode;

async function loadHnswlib(): Promise<HnswlibModule> {
  try {
    const mod = (await import('hnswlib-node')) as HnswlibModule & { default?: HnswlibModule };
    return mod.default ?? mod;
  } catch (cause) {
    throw new DependencyMissingError('hnswlib-node', 'the "hnswlib" backend', { cause });
  }
}

/**
 * `hnswlib` backend: an HNSW graph in hnswlib-node (hnswlib 0.8). Approximate search.
 *
 * - Metrics: `cosine` uses hnswlib's `ip` space (score = 1 − distance = inner product; vectors
 *   are expected L2-normalised, as everywhere); `l2` scores are the negated squared distance.
 * - Ids: hnswlib labels are 32-bit, so a {@link LabelMap} (saved beside the graph) maps ids up
 *   to 2^53−1 to labels. Re-adding an id updates its vector in place; a removed id's slot is
 *   marked deleted and reused by the next new id, so churn does not grow the graph.
 * - Capacity doubles automatically (`resizeIndex`).
 * - hnswlib aborts the process on some bad calls, so every input is validated first and saved
 *   files are checked structurally before the native loader reads them.
 * - Each search is one blocking native call per query; long adds and searches yield to the event
 *   loop every few milliseconds. Do not modify `vectors`/`queries` until the promise settles.
 *
 * The caller owns the index and must `close()` it; `close()` frees the native graph as soon as
 * a save in progress has finished.
 */
export class HnswlibIndex implements FileVectorIndex {
  readonly backend = 'hnswlib' as const;
  readonly persistence = 'files' as const;
  readonly capabilities = HNSWLIB_CAPABILITIES;
  readonly params: Readonly<HnswlibParams>;

  private native: HierarchicalNSW | null;
  private capacity: number;
  private currentEf = -1;
  private readonly queue = new SerialQueue();
  private closed = false;
  /** One reusable `number[]` row: hnswlib-node takes only plain arrays, one vector per call. */
  private readonly row: number[];

  private constructor(
    native: HierarchicalNSW,
    readonly dimension: number,
    readonly metric: Metric,
    params: HnswlibParams,
    private readonly labels: LabelMap,
    capacity: number,
  ) {
    this.native = native;
    this.params = Object.freeze({ ...params });
    this.capacity = capacity;
    this.row = new Array<number>(dimension).fill(0);
  }

  /** Creates an empty index. */
  static async create(dimension: number, metric: Metric, rawParams: RawParams = {}): Promise<HnswlibIndex> {
    checkGeometry(dimension, metric);
    const params = parseHnswlibParams(rawParams);
    const { HierarchicalNSW } = await loadHnswlib();
    const native = new HierarchicalNSW(metric === 'cosine' ? 'ip' : 'l2', dimension);
    native.initIndex(INITIAL_CAPACITY, params.M, params.efConstruction, HNSWLIB_SEED, false);
    const index = new HnswlibIndex(native, dimension, metric, params, new LabelMap(MAX_LABEL), INITIAL_CAPACITY);
    index.applyEf(params.efSearch);
    return index;
  }

  /** Loads an index saved by {@link save}. Throws `IndexCorruptError` on any inconsistency. */
  static async load(dir: string, manifest: IndexManifest): Promise<HnswlibIndex> {
    if (manifest.backend !== 'hnswlib') throw new IndexCorruptError(dir, `manifest is for backend "${manifest.backend}", not hnswlib`);
    let params: HnswlibParams;
    try {
      checkGeometry(manifest.dimension, manifest.metric);
      params = parseHnswlibParams(manifest.params);
    } catch (cause) {
      throw new IndexCorruptError(dir, `manifest parameters are invalid: ${(cause as Error).message}`, { cause });
    }
    const graphFile = await indexDataFile(dir, manifest, 'graph');
    const idsFile = await indexDataFile(dir, manifest, 'ids');
    let labels: LabelMap;
    let maxElements: number;
    try {
      labels = await LabelMap.read(idsFile, MAX_LABEL);
      if (labels.size !== manifest.count) throw new Error(`id map holds ${labels.size} ids, the manifest says ${manifest.count}`);
      ({ maxElements } = await validateHnswlibFile(graphFile, {
        dimension: manifest.dimension,
        M: params.M,
        efConstruction: params.efConstruction,
        labelCount: labels.labelCount,
        maxCapacity: Math.max(INITIAL_CAPACITY, 2 * labels.labelCount),
        labelFree: (label) => labels.idOf(label) === undefined,
      }));
    } catch (cause) {
      throw new IndexCorruptError(dir, (cause as Error).message, { cause });
    }
    const { HierarchicalNSW } = await loadHnswlib();
    const native = new HierarchicalNSW(manifest.metric === 'cosine' ? 'ip' : 'l2', manifest.dimension);
    try {
      await native.readIndex(graphFile, false);
    } catch (cause) {
      throw new IndexCorruptError(dir, `hnswlib cannot read the graph: ${(cause as Error).message}`, { cause });
    }
    if (native.getCurrentCount() !== labels.labelCount || native.getMaxElements() !== maxElements) {
      throw new IndexCorruptError(dir, 'the graph read back differs from the validated file');
    }
    const index = new HnswlibIndex(native, manifest.dimension, manifest.metric, params, labels, maxElements);
    // readIndex resets ef to 10: apply the saved efSearch now (searches also set it per call).
    index.applyEf(params.efSearch);
    return index;
  }

  get size(): number {
    this.assertOpen();
    return this.labels.size;
  }

  has(id: number): boolean {
    this.assertOpen();
    return this.labels.labelOf(id) !== undefined;
  }

  /** The ef currently set in the native index (for tests: it must survive a load). */
  get nativeEf(): number {
    return this.open().getEf();
  }

  /** Native slots in use (live + deleted-and-reusable); removals do not shrink it. */
  get nativeSlots(): number {
    this.assertOpen();
    return this.labels.labelCount;
  }

  /** Native capacity (max elements before the next automatic resize). */
  get nativeCapacity(): number {
    this.assertOpen();
    return this.capacity;
  }

  async add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    this.assertOpen();
    checkIds(ids);
    checkVectors(vectors, this.dimension, ids.length);
    await this.queue.run(async () => {
      const native = this.open();
      // Upsert: the last occurrence of an id in the batch wins.
      const lastRow = new Map<number, number>();
      for (let i = 0; i < ids.length; i++) lastRow.set(ids[i]!, i);
      let newIds = 0;
      for (const id of lastRow.keys()) if (this.labels.labelOf(id) === undefined) newIds++;
      this.ensureCapacity(this.labels.labelCount + this.labels.freshLabelsNeeded(newIds));
      const d = this.dimension;
      const row = this.row;
      let since = performance.now();
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (lastRow.get(id) !== i) continue;
        for (let j = 0, off = i * d; j < d; j++) row[j] = vectors[off + j]!;
        // An existing label (live, or free and marked deleted) is updated in place by hnswlib.
        const label = this.labels.labelOf(id) ?? this.labels.assign(id).label;
        native.addPoint(row, label);
        if (performance.now() - since > YIELD_EVERY_MS) {
          await yieldToEventLoop();
          this.assertOpen();
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
      let removed = 0;
      for (let i = 0; i < ids.length; i++) {
        const label = this.labels.release(ids[i]!);
        if (label === undefined) continue;
        native.markDelete(label);
        removed++;
      }
      return removed;
    });
  }

  async search(queries: Float32Array, k: number, params: SearchParams = {}): Promise<Neighbors[]> {
    this.assertOpen();
    checkK(k);
    const rows = checkVectors(queries, this.dimension);
    const ef = (checkSearchParams(this.backend, this.capabilities.searchParams, params).efSearch as number | undefined) ?? this.params.efSearch;
    const out: Neighbors[] = [];
    const d = this.dimension;
    const row = this.row;
    const cosine = this.metric === 'cosine';
    let since = performance.now();
    for (let q = 0; q < rows; q++) {
      const native = this.open();
      // hnswlib aborts or errors when k exceeds what it holds: ask for at most the live count.
      const kk = Math.min(k, this.labels.size);
      if (kk === 0) {
        out.push({ ids: [], scores: [] });
        continue;
      }
      // When k covers every live vector, let the walk consider every slot (deleted ones included).
      this.applyEf(Math.max(ef, kk, kk === this.labels.size ? this.labels.labelCount : 0));
      for (let j = 0, off = q * d; j < d; j++) row[j] = queries[off + j]!;
      const { neighbors, distances } = native.searchKnn(row, kk);
      const ids: number[] = [];
      const scores: number[] = [];
      for (let i = 0; i < neighbors.length; i++) {
        const id = this.labels.idOf(neighbors[i]!);
        if (id === undefined) continue;
        ids.push(id);
        scores.push(cosine ? 1 - distances[i]! : -distances[i]!);
      }
      out.push({ ids, scores });
      if (performance.now() - since > YIELD_EVERY_MS) {
        await yieldToEventLoop();
        since = performance.now();
      }
    }
    return out;
  }

  async save(dir: string): Promise<void> {
    this.assertOpen();
    await this.queue.run(async () => {
      const native = this.open();
      await saveIndexDir(
        dir,
        {
          backend: 'hnswlib',
          library: HNSWLIB_LIBRARY,
          dimension: this.dimension,
          metric: this.metric,
          params: { ...this.params },
          count: this.labels.size,
        },
        {
          graph: async (tmp) => {
            // Runs on a libuv thread; the queue keeps adds/removes (and close's free) out meanwhile.
            await native.writeIndex(tmp);
            await fsyncFile(tmp);
            // hnswlib's writer ignores I/O errors: check the file before it replaces a good one.
            await validateHnswlibFile(tmp, {
              dimension: this.dimension,
              M: this.params.M,
              efConstruction: this.params.efConstruction,
              labelCount: this.labels.labelCount,
              maxCapacity: this.capacity,
              labelFree: (label) => this.labels.idOf(label) === undefined,
            });
          },
          ids: (tmp) => this.labels.write(tmp),
        },
      );
    });
  }

  /** Resolves once a running save has finished and the graph is freed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // hnswlib-node has no free(): re-initialising with capacity 1 deletes the graph. That waits
    // for a running save (its native writer reads the graph on another thread) to finish.
    await this.queue.idle();
    this.native?.initIndex(1);
    this.native = null;
  }

  private applyEf(ef: number): void {
    if (ef !== this.currentEf) {
      this.open().setEf(ef);
      this.currentEf = ef;
    }
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.capacity) return;
    if (needed > MAX_LABEL + 1) throw new InvalidArgumentError(`hnswlib holds at most ${MAX_LABEL + 1} vectors`);
    const next = Math.min(MAX_LABEL + 1, Math.max(needed, this.capacity * 2));
    this.open().resizeIndex(next);
    this.capacity = next;
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('hnswlib index');
  }

  private open(): HierarchicalNSW {
    if (this.closed || !this.native) throw new ClosedError('hnswlib index');
    return this.native;
  }
}

/** Registry entry for the `hnswlib` backend. */
export const hnswlibBackend: FileBackendFactory = {
  name: 'hnswlib',
  persistence: 'files',
  description: 'HNSW graph in hnswlib-node: approximate, fast queries, per-search efSearch',
  library: HNSWLIB_LIBRARY,
  capabilities: HNSWLIB_CAPABILITIES,
  buildParams: [
    { name: 'M', type: 'integer', min: 2, max: 1024, default: HNSWLIB_DEFAULTS.M, description: 'graph degree (links per node per level)' },
    { name: 'efConstruction', type: 'integer', min: 1, max: MAX_EF, default: HNSWLIB_DEFAULTS.efConstruction, description: 'candidate list size while inserting' },
    { name: 'efSearch', type: 'integer', min: 1, max: MAX_EF, default: HNSWLIB_DEFAULTS.efSearch, description: 'default candidate list size while searching' },
  ],
  create: ({ dimension, metric, params }) => HnswlibIndex.create(dimension, metric, params),
  load: (dir, manifest) => HnswlibIndex.load(dir, manifest),
};
