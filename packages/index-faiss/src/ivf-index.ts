// faiss-ivf: `IVF{nlist},Flat` (inner-product k-means and search for cosine, L2 for l2).
//
// Training: vectors added before training are buffered in JS (a Float32Array) and searched
// exactly. The index trains when an `add` brings the buffer to `trainAt` live vectors, or on the
// first `search`/`save`/`train()` once there are enough vectors for k-means (39 per list; with
// `nlist: 'auto'`, 4096). After training, adds go straight to FAISS; nlist is then fixed.
// nprobe: see ivf-nprobe.ts. The instance for the nprobe last searched with is kept; searching
// with another nprobe costs one write + read of the index.
import { readFile, rm, writeFile } from 'node:fs/promises';
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
  Yielder,
  type FileVectorIndex,
  type IndexCapabilities,
  type IndexManifest,
  type Metric,
  type Neighbors,
  type SearchParams,
} from '@pixsearch/core';
import { exactSearch } from './exact-search.js';
import { ChunkArray, rowsPerChunk, searchInChunks } from './faiss-convert.js';
import { compactIvfFile, inspectIvfFile, ivfFileBytes, patchIvfNprobe } from './faiss-file.js';
import { loadFaiss, faissLibrary, METRIC_INNER_PRODUCT, METRIC_L2, type NativeIndex } from './faiss-native.js';
import { COMPACT_FRACTION, MAX_DIMENSION, readNative } from './flat-index.js';
import { IdMap, lastOccurrenceRows } from './id-map.js';
import { autoNlist, autoNprobe, MIN_POINTS_PER_LIST, minTrainRows, parseIvfParams, trainingSample, type IvfSettings } from './ivf-params.js';
import { withNprobe } from './ivf-nprobe.js';
import { searchLive } from './live-search.js';
import { releaseDropped } from './native-release.js';
import { prepareNativeWrite, ScratchDir } from './native-write.js';
import { VectorBuffer } from './vector-buffer.js';

export const IVF_CAPABILITIES: IndexCapabilities = Object.freeze({
  exact: false,
  remove: true,
  searchParams: Object.freeze([
    Object.freeze({ name: 'nprobe', type: 'integer', min: 1, description: 'inverted lists probed per query (clamped to nlist); default: the nprobe build parameter' } as const),
  ]),
  metrics: Object.freeze(['cosine', 'l2'] as const),
});

interface Trained {
  native: NativeIndex;
  /** nprobe stored in `native`. */
  nprobe: number;
}

/**
 * Approximate k-NN with an inverted file. Scores as for faiss-flat. Parameters (`params`):
 * `nlist` and `nprobe` (numbers, or `'auto'` until training fixes them) and `trainAt`.
 * Per-search `SearchParams.nprobe` (clamped to nlist) overrides the default. The caller owns the
 * index: `close()` it; do not modify `vectors`/`queries` until the returned promise settles.
 */
export class FaissIvfIndex implements FileVectorIndex {
  readonly backend = 'faiss-ivf' as const;
  readonly persistence = 'files' as const;
  readonly capabilities = IVF_CAPABILITIES;

  private closed = false;
  private buffer: VectorBuffer | undefined;
  private trained: Trained | undefined;
  private nlist: number | undefined;
  private defaultNprobe: number | undefined;
  private readonly queue = new SerialQueue();
  private readonly scratch = new ScratchDir('ivf');

  private constructor(
    readonly dimension: number,
    readonly metric: Metric,
    private readonly settings: IvfSettings,
    private readonly ids: IdMap,
  ) {}

  /** An empty, untrained index. Throws `InvalidArgumentError` for bad parameters. */
  static create(options: { dimension: number; metric: Metric; params?: Record<string, number | string> }): FaissIvfIndex {
    const { dimension, metric } = options;
    checkGeometry(dimension, metric, MAX_DIMENSION);
    const index = new FaissIvfIndex(dimension, metric, parseIvfParams(options.params), new IdMap());
    loadFaiss(); // fail now, not at training time, when the binding is missing
    index.buffer = new VectorBuffer(dimension);
    return index;
  }

  /** Loads a directory written by `save()`. Throws `IndexCorruptError` on any inconsistency. */
  static async load(dir: string, manifest: IndexManifest): Promise<FaissIvfIndex> {
    if (manifest.backend !== 'faiss-ivf') throw new IndexCorruptError(dir, `manifest is for backend "${manifest.backend}", not faiss-ivf`);
    let settings: IvfSettings;
    try {
      settings = parseIvfParams(manifest.params);
    } catch (cause) {
      throw new IndexCorruptError(dir, 'manifest has invalid faiss-ivf parameters', { cause });
    }
    const idsFile = await indexDataFile(dir, manifest, 'ids');
    const { dimension: d, metric } = manifest;
    if (manifest.files.index) {
      const file = await indexDataFile(dir, manifest, 'index');
      const info = await inspectIvfFile(file);
      if (info.d !== d) throw new IndexCorruptError(dir, `index has dimension ${info.d}, manifest says ${d}`);
      if ((info.metric === 'ip') !== (metric === 'cosine')) throw new IndexCorruptError(dir, `index metric ${info.metric} does not match ${metric}`);
      if (info.nlist !== settings.nlist) throw new IndexCorruptError(dir, `index has nlist ${info.nlist}, manifest says ${settings.nlist}`);
      const ids = IdMap.deserialize(await readFile(idsFile), idsFile, { positions: info.ntotal, live: manifest.count });
      const index = new FaissIvfIndex(d, metric, settings, ids);
      index.trained = { native: readNative(file, info.ntotal, d), nprobe: info.nprobe };
      index.nlist = info.nlist;
      index.defaultNprobe = settings.nprobe === 'auto' ? autoNprobe(info.nlist) : Math.min(settings.nprobe, info.nlist);
      return index;
    }
    const file = await indexDataFile(dir, manifest, 'buffer');
    const buffer = VectorBuffer.deserialize(await readFile(file), file, d);
    const ids = IdMap.deserialize(await readFile(idsFile), idsFile, { positions: buffer.rows, live: manifest.count });
    loadFaiss();
    const index = new FaissIvfIndex(d, metric, settings, ids);
    index.buffer = buffer;
    return index;
  }

  /** Parameters in effect: nlist/nprobe are numbers once trained, `'auto'` (or as given) before. */
  get params(): Readonly<Record<string, number | string>> {
    return Object.freeze({
      nlist: this.nlist ?? this.settings.nlist,
      nprobe: this.defaultNprobe ?? this.settings.nprobe,
      trainAt: this.settings.trainAt,
    });
  }

  /** True once the k-means quantizer is trained (searches are approximate from then on). */
  get isTrained(): boolean {
    return this.trained !== undefined;
  }

  /** Live vectors; 0 once closed. */
  get size(): number {
    return this.closed ? 0 : this.ids.size;
  }

  has(id: number): boolean {
    this.check();
    return this.ids.has(id);
  }

  async add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    this.check();
    checkIds(ids);
    checkVectors(vectors, this.dimension, ids.length);
    return this.queue.run(async () => {
      this.check();
      const rows = lastOccurrenceRows(ids);
      const n = rows ? rows.length : ids.length;
      if (this.buffer) {
        this.buffer.append(vectors, rows, 0, n);
        this.ids.append(ids, rows, 0, n);
        await this.maybeCompact();
        if (this.ids.size >= Math.max(this.settings.trainAt, minTrainRows(this.settings))) await this.trainNow();
        return;
      }
      const d = this.dimension;
      const step = rowsPerChunk(d);
      const chunk = new ChunkArray();
      const yielder = new Yielder();
      for (let r = 0; r < n; r += step) {
        const end = Math.min(n, r + step);
        this.native().add(rows ? chunk.rows(vectors, d, rows, r, end) : chunk.range(vectors, r * d, end * d));
        this.ids.append(ids, rows, r, end);
        await yielder.maybe();
      }
      await this.maybeCompact();
    });
  }

  async remove(ids: ArrayLike<number>): Promise<number> {
    this.check();
    checkIds(ids);
    return this.queue.run(async () => {
      this.check();
      let removed = 0;
      for (let i = 0; i < ids.length; i++) if (this.ids.remove(ids[i]!)) removed++;
      await this.maybeCompact();
      return removed;
    });
  }

  /** `params.nprobe`: lists to probe (integer ≥ 1, clamped to nlist); ignored before training (exact). */
  async search(queries: Float32Array, k: number, params?: SearchParams): Promise<Neighbors[]> {
    this.check();
    checkK(k);
    const nq = checkVectors(queries, this.dimension);
    const nprobe = checkSearchParams(this.backend, this.capabilities.searchParams, params).nprobe as number | undefined;
    return this.queue.run(async () => {
      this.check();
      if (this.buffer && this.ids.size >= minTrainRows(this.settings)) await this.trainNow();
      const buffer = this.buffer;
      if (buffer) {
        const metric = this.metric === 'cosine' ? 'ip' : 'l2';
        return searchLive(
          (q, kk, rows) => exactSearch(buffer.vectors, buffer.rows, this.dimension, metric, q, kk, rows),
          this.ids,
          this.metric,
          queries,
          nq,
          k,
        );
      }
      await this.useNprobe(Math.min(nprobe ?? this.defaultNprobe!, this.nlist!));
      return searchLive((q, kk, rows) => searchInChunks(this.native(), q, this.dimension, kk, rows), this.ids, this.metric, queries, nq, k);
    });
  }

  /**
   * Trains now on the buffered vectors (a no-op when already trained). Throws
   * `InvalidArgumentError` when there are fewer live vectors than k-means needs.
   */
  async train(): Promise<void> {
    this.check();
    return this.queue.run(async () => {
      this.check();
      if (!this.buffer) return;
      const need = minTrainRows(this.settings);
      if (this.ids.size < need) throw new InvalidArgumentError(`faiss-ivf needs ${need} vectors to train, has ${this.ids.size}`);
      await this.trainNow();
    });
  }

  /** Saves (training first when there are enough vectors); the file stores the default nprobe. */
  async save(dir: string): Promise<void> {
    this.check();
    return this.queue.run(async () => {
      this.check();
      if (this.buffer && this.ids.size >= minTrainRows(this.settings)) await this.trainNow();
      const base = {
        backend: 'faiss-ivf' as const,
        library: faissLibrary(),
        dimension: this.dimension,
        metric: this.metric,
        params: { ...this.params },
        count: this.ids.size,
        extra: { trained: this.isTrained, positions: this.ids.positions, tombstones: this.ids.tombstones },
      };
      const ids = (tmp: string) => writeFile(tmp, this.ids.serialize());
      const buffer = this.buffer;
      if (buffer) {
        await saveIndexDir(dir, base, { buffer: (tmp) => writeFile(tmp, buffer.serialize()), ids });
        return;
      }
      const nlist = this.nlist!;
      await saveIndexDir(dir, base, {
        index: async (tmp) => {
          await prepareNativeWrite(tmp, ivfFileBytes(this.dimension, nlist, this.ids.positions));
          this.native().write(tmp);
          if (this.trained!.nprobe !== this.defaultNprobe) await patchIvfNprobe(tmp, this.defaultNprobe!, nlist);
        },
        ids,
      });
    });
  }

  /** Resolves once operations already queued have settled (they fail with ClosedError) and the memory is released. */
  async close(): Promise<void> {
    if (this.closed) return;
    const bytes = this.nativeBytes();
    this.closed = true;
    this.trained = undefined;
    this.buffer = undefined;
    await this.queue.run(async () => {
      this.scratch.dispose();
      await releaseDropped(bytes);
    });
  }

  /** Approximate native bytes of the trained index (vectors, labels, centroids). */
  private nativeBytes(): number {
    return this.trained ? this.ids.positions * (this.dimension * 4 + 8) + (this.nlist ?? 0) * this.dimension * 4 : 0;
  }

  private check(): void {
    if (this.closed) throw new ClosedError('faiss-ivf index');
  }

  private native(): NativeIndex {
    this.check();
    return this.trained!.native;
  }

  /** Makes the cached native instance carry `nprobe`. */
  private async useNprobe(nprobe: number): Promise<void> {
    if (this.trained!.nprobe === nprobe) return;
    const next = await withNprobe(this.trained!.native, nprobe, this.nlist!, this.scratch);
    this.check();
    const dropped = this.nativeBytes();
    this.trained = { native: next, nprobe };
    await releaseDropped(dropped);
  }

  /** k-means on (a strided sample of) the buffer, then moves the buffer into FAISS. */
  private async trainNow(): Promise<void> {
    const buffer = this.buffer!;
    if (this.ids.tombstones > 0) {
      buffer.compact(this.ids.remap());
      this.ids.compact();
    }
    const n = buffer.rows;
    const d = this.dimension;
    const nlist = this.settings.nlist === 'auto' ? autoNlist(n, d) : this.settings.nlist;
    if (n < MIN_POINTS_PER_LIST * nlist) throw new InvalidArgumentError(`faiss-ivf needs ${MIN_POINTS_PER_LIST * nlist} vectors for nlist ${nlist}, has ${n}`);
    const sampleRows = trainingSample(n, nlist, d);

    const faiss = loadFaiss();
    let native: NativeIndex;
    try {
      native = faiss.Index.fromFactory(d, `IVF${nlist},Flat`, this.metric === 'cosine' ? METRIC_INNER_PRODUCT : METRIC_L2);
    } catch (cause) {
      throw new InvalidArgumentError(`FAISS cannot build IVF${nlist},Flat`, { cause });
    }
    // One array: faiss-node's train has no incremental form (bounded by MAX_TRAIN_FLOATS unless nlist demands more).
    native.train(new ChunkArray().rows(buffer.vectors, d, sampleRows, 0, sampleRows.length));
    if (!native.isTrained()) throw new Error('FAISS did not train the IVF index');
    const nprobe = this.settings.nprobe === 'auto' ? autoNprobe(nlist) : Math.min(this.settings.nprobe, nlist);
    // Set nprobe while the index is still empty: the round trip costs only the centroids.
    native = await withNprobe(native, nprobe, nlist, this.scratch);

    const step = rowsPerChunk(d);
    const chunk = new ChunkArray();
    const yielder = new Yielder();
    const data = buffer.vectors;
    for (let r = 0; r < n; r += step) {
      const end = Math.min(n, r + step);
      native.add(chunk.range(data, r * d, end * d));
      await yielder.maybe();
      this.check();
    }
    this.trained = { native, nprobe };
    this.nlist = nlist;
    this.defaultNprobe = nprobe;
    this.buffer = undefined;
  }

  private async maybeCompact(): Promise<void> {
    const dead = this.ids.tombstones;
    if (dead === 0 || dead <= COMPACT_FRACTION * this.ids.positions) return;
    const remap = this.ids.remap();
    const kept = this.ids.size;
    if (this.buffer) {
      this.buffer.compact(remap);
      this.ids.compact();
      return;
    }
    const src = this.scratch.file('compact-src.faiss');
    const dst = this.scratch.file('compact-dst.faiss');
    try {
      await prepareNativeWrite(src, ivfFileBytes(this.dimension, this.nlist!, this.ids.positions));
      this.native().write(src);
      const info = await inspectIvfFile(src);
      await compactIvfFile(src, dst, info, remap, kept);
      const next = readNative(dst, kept, this.dimension);
      this.check();
      const dropped = this.nativeBytes();
      this.trained = { native: next, nprobe: this.trained!.nprobe };
      this.ids.compact();
      await releaseDropped(dropped);
    } finally {
      await rm(src, { force: true });
      await rm(dst, { force: true });
    }
  }
}
