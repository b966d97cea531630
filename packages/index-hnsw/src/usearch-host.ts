import {
  checkIds,
  checkK,
  checkSearchParams,
  checkVectors,
  ClosedError,
  IndexCorruptError,
  type IndexCapabilities,
  type IndexManifest,
  type Metric,
  type Neighbors,
  type SearchParams,
} from '@pixsearch/core';
import type { ManifestHeader } from './manifest-header.js';
import { parseUsearchParams, USEARCH_CAPABILITIES, USEARCH_I8_CAPABILITIES, type UsearchParams } from './usearch-index.js';
import type { UsearchRequest } from './usearch-worker.js';
import { WorkerCorruptError, WorkerPool } from './worker-pool.js';

/**
 * A `usearch` index (USearch HNSW) hosted in its own worker thread: adds (seconds of graph
 * inserts per thousands of rows at 512-d), searches and saves run there, and the main thread only
 * validates inputs and posts copies. Used by the `auto` backend above its exact-search size.
 * `close()` frees the graph and ends the worker once queued operations have settled.
 */
export class UsearchHost {
  readonly capabilities: IndexCapabilities;
  private size_ = 0;
  private closed = false;
  private readonly searchWaiters: (() => void)[] = [];

  private constructor(
    private readonly pool: WorkerPool<UsearchRequest>,
    readonly dimension: number,
    readonly metric: Metric,
    readonly params: Readonly<UsearchParams>,
  ) {
    this.capabilities = params.quantization === 'i8' ? USEARCH_I8_CAPABILITIES : USEARCH_CAPABILITIES;
  }

  static async create(dimension: number, metric: Metric, params: Record<string, number | string>): Promise<UsearchHost> {
    const parsed = parseUsearchParams(params, metric); // invalid params fail here, on the caller's thread
    const pool = new WorkerPool<UsearchRequest>('usearch-worker', undefined, 1, 'usearch worker');
    try {
      await pool.call(0, { op: 'create', dimension, metric, params });
    } catch (err) {
      await pool.terminate();
      throw err;
    }
    return new UsearchHost(pool, dimension, metric, parsed);
  }

  /** Loads a `usearch` index directory (its manifest may be another backend's wrapping it). */
  static async load(dir: string, manifest: IndexManifest): Promise<UsearchHost> {
    let parsed: UsearchParams;
    try {
      parsed = parseUsearchParams(manifest.params, manifest.metric);
    } catch (cause) {
      throw new IndexCorruptError(dir, `manifest parameters are invalid: ${(cause as Error).message}`, { cause });
    }
    const pool = new WorkerPool<UsearchRequest>('usearch-worker', undefined, 1, 'usearch worker');
    try {
      const reply = await pool.call(0, { op: 'load', dir, manifest });
      const host = new UsearchHost(pool, manifest.dimension, manifest.metric, parsed);
      host.size_ = reply.size;
      return host;
    } catch (err) {
      await pool.terminate();
      // The worker's message already names the directory.
      if (err instanceof WorkerCorruptError) throw new IndexCorruptError(dir, err.message.replace(/^index at .*? is unusable: /, ''), { cause: err });
      throw err;
    }
  }

  /** Live vectors, as of the last answered operation (0 once closed). */
  get size(): number {
    return this.closed ? 0 : this.size_;
  }

  async add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    this.assertOpen();
    checkIds(ids);
    checkVectors(vectors, this.dimension, ids.length);
    if (ids.length === 0) return;
    const keys = Float64Array.from(ids);
    const copy = vectors.slice();
    this.size_ = (await this.pool.call(0, { op: 'add', ids: keys, vectors: copy }, [keys.buffer, copy.buffer])).size;
  }

  async remove(ids: ArrayLike<number>): Promise<number> {
    this.assertOpen();
    checkIds(ids);
    const reply = await this.pool.call(0, { op: 'remove', ids: Float64Array.from(ids) });
    this.size_ = reply.size;
    return reply.value as number;
  }

  async search(queries: Float32Array, k: number, params: SearchParams = {}): Promise<Neighbors[]> {
    this.assertOpen();
    checkK(k);
    checkVectors(queries, this.dimension);
    const checked = checkSearchParams('usearch', this.capabilities.searchParams, params);
    const copy = queries.slice();
    const posted = this.pool.call(0, { op: 'search', queries: copy, k, params: checked }, [copy.buffer]);
    for (const notify of this.searchWaiters.splice(0)) notify();
    return (await posted).value as Neighbors[];
  }

  /** Holds the worker until the returned function is called (see `ExactIndex.suspend`). */
  async suspend(): Promise<() => Promise<void>> {
    this.assertOpen();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const held = this.pool.call(0, { op: 'hold', flag });
    return async () => {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await held;
    };
  }

  /** Resolves when the next search has been posted to the worker. */
  nextSearch(): Promise<void> {
    return new Promise((resolve) => this.searchWaiters.push(resolve));
  }

  async saveAs(dir: string, header: ManifestHeader): Promise<void> {
    this.assertOpen();
    await this.pool.call(0, { op: 'save', dir, header });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pool.call(0, { op: 'close' });
    } finally {
      await this.pool.terminate();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('usearch index');
  }
}
