// faiss-flat: exact search (IndexFlatIP for cosine, IndexFlatL2 for l2). The ground truth for
// every recall figure in pixsearch.
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
import { ChunkArray, rowsPerChunk, searchInChunks } from './faiss-convert.js';
import { compactFlatFile, flatFileBytes, inspectFlatFile } from './faiss-file.js';
import { faissLibrary, loadFaiss, type NativeIndex } from './faiss-native.js';
import { IdMap, lastOccurrenceRows } from './id-map.js';
import { searchLive } from './live-search.js';
import { releaseDropped } from './native-release.js';
import { prepareNativeWrite, ScratchDir } from './native-write.js';

/** Largest dimension accepted (FAISS stores it as int32; CLIP uses 512–1024). */
export const MAX_DIMENSION = 1 << 20;

/** Compact (drop tombstoned rows) once they exceed this share of stored rows. */
export const COMPACT_FRACTION = 0.25;

export const FLAT_CAPABILITIES: IndexCapabilities = Object.freeze({
  exact: true,
  remove: true,
  searchParams: Object.freeze([]),
  metrics: Object.freeze(['cosine', 'l2'] as const),
});

function newNative(dimension: number, metric: Metric): NativeIndex {
  const faiss = loadFaiss();
  return metric === 'cosine' ? new faiss.IndexFlatIP(dimension) : new faiss.IndexFlatL2(dimension);
}

/**
 * Exact k-NN over all vectors. Scores: inner product for `cosine` (cosine similarity for unit
 * vectors), negated squared Euclidean distance for `l2`. Removal tombstones rows and compacts when
 * they pass {@link COMPACT_FRACTION}. Operations run one at a time in call order; inputs are
 * validated when called but read when the operation runs, so do not modify `vectors`/`queries`
 * until the promise settles. The caller owns the index and must `close()` it to release its
 * native memory.
 */
export class FaissFlatIndex implements FileVectorIndex {
  readonly backend = 'faiss-flat' as const;
  readonly persistence = 'files' as const;
  readonly capabilities = FLAT_CAPABILITIES;
  readonly params: Readonly<Record<string, number | string>> = Object.freeze({});

  private nativeIndex: NativeIndex | undefined;
  private readonly queue = new SerialQueue();
  private readonly scratch = new ScratchDir('flat');

  private constructor(
    readonly dimension: number,
    readonly metric: Metric,
    native: NativeIndex,
    private readonly ids: IdMap,
  ) {
    this.nativeIndex = native;
  }

  /** An empty index. `params` must be empty: a flat index has nothing to tune. */
  static create(options: { dimension: number; metric: Metric; params?: Record<string, number | string> }): FaissFlatIndex {
    const { dimension, metric } = options;
    checkGeometry(dimension, metric, MAX_DIMENSION);
    const keys = Object.keys(options.params ?? {});
    if (keys.length > 0) throw new InvalidArgumentError(`faiss-flat takes no parameters, got ${keys.join(', ')}`);
    return new FaissFlatIndex(dimension, metric, newNative(dimension, metric), new IdMap());
  }

  /** Loads a directory written by `save()`. Throws `IndexCorruptError` on any inconsistency. */
  static async load(dir: string, manifest: IndexManifest): Promise<FaissFlatIndex> {
    if (manifest.backend !== 'faiss-flat') throw new IndexCorruptError(dir, `manifest is for backend "${manifest.backend}", not faiss-flat`);
    const indexFile = await indexDataFile(dir, manifest, 'index');
    const idsFile = await indexDataFile(dir, manifest, 'ids');
    const info = await inspectFlatFile(indexFile);
    if (info.d !== manifest.dimension) throw new IndexCorruptError(dir, `index has dimension ${info.d}, manifest says ${manifest.dimension}`);
    if ((info.metric === 'ip') !== (manifest.metric === 'cosine')) throw new IndexCorruptError(dir, `index metric ${info.metric} does not match ${manifest.metric}`);
    const ids = IdMap.deserialize(await readFile(idsFile), idsFile, { positions: info.ntotal, live: manifest.count });
    const native = readNative(indexFile, info.ntotal, info.d);
    return new FaissFlatIndex(manifest.dimension, manifest.metric, native, ids);
  }

  /** Live vectors; 0 once closed. */
  get size(): number {
    return this.nativeIndex ? this.ids.size : 0;
  }

  has(id: number): boolean {
    this.native();
    return this.ids.has(id);
  }

  async add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    this.native();
    checkIds(ids);
    checkVectors(vectors, this.dimension, ids.length);
    return this.queue.run(async () => {
      const rows = lastOccurrenceRows(ids);
      const n = rows ? rows.length : ids.length;
      const step = rowsPerChunk(this.dimension);
      const chunk = new ChunkArray();
      const yielder = new Yielder();
      for (let r = 0; r < n; r += step) {
        const end = Math.min(n, r + step);
        const x = rows ? chunk.rows(vectors, this.dimension, rows, r, end) : chunk.range(vectors, r * this.dimension, end * this.dimension);
        this.native().add(x);
        this.ids.append(ids, rows, r, end);
        await yielder.maybe();
      }
      await this.maybeCompact();
    });
  }

  async remove(ids: ArrayLike<number>): Promise<number> {
    this.native();
    checkIds(ids);
    return this.queue.run(async () => {
      let removed = 0;
      for (let i = 0; i < ids.length; i++) if (this.ids.remove(ids[i]!)) removed++;
      await this.maybeCompact();
      return removed;
    });
  }

  async search(queries: Float32Array, k: number, params?: SearchParams): Promise<Neighbors[]> {
    this.native();
    checkK(k);
    checkSearchParams(this.backend, this.capabilities.searchParams, params);
    const nq = checkVectors(queries, this.dimension);
    return this.queue.run(() =>
      searchLive((q, kk, rows) => searchInChunks(this.native(), q, this.dimension, kk, rows), this.ids, this.metric, queries, nq, k),
    );
  }

  async save(dir: string): Promise<void> {
    this.native();
    return this.queue.run(async () => {
      const positions = this.ids.positions;
      await saveIndexDir(
        dir,
        {
          backend: 'faiss-flat',
          library: faissLibrary(),
          dimension: this.dimension,
          metric: this.metric,
          params: {},
          count: this.ids.size,
          extra: { positions, tombstones: this.ids.tombstones },
        },
        {
          index: async (tmp) => {
            await prepareNativeWrite(tmp, flatFileBytes(this.dimension, positions));
            this.native().write(tmp);
          },
          ids: (tmp) => writeFile(tmp, this.ids.serialize()),
        },
      );
    });
  }

  /** Resolves once operations already queued have settled (they fail with ClosedError) and the memory is released. */
  async close(): Promise<void> {
    if (!this.nativeIndex) return;
    const bytes = flatFileBytes(this.dimension, this.ids.positions);
    this.nativeIndex = undefined;
    await this.queue.run(async () => {
      this.scratch.dispose();
      await releaseDropped(bytes);
    });
  }

  private native(): NativeIndex {
    if (!this.nativeIndex) throw new ClosedError('faiss-flat index');
    return this.nativeIndex;
  }

  private async maybeCompact(): Promise<void> {
    const dead = this.ids.tombstones;
    if (dead === 0 || dead <= COMPACT_FRACTION * this.ids.positions) return;
    const remap = this.ids.remap();
    const kept = this.ids.size;
    let next: NativeIndex;
    if (kept === 0) {
      next = newNative(this.dimension, this.metric);
    } else {
      // Through files: FAISS's removeIds would renumber rows and scan its id list once per row.
      const src = this.scratch.file('compact-src.faiss');
      const dst = this.scratch.file('compact-dst.faiss');
      try {
        await prepareNativeWrite(src, flatFileBytes(this.dimension, this.ids.positions));
        this.native().write(src);
        const info = await inspectFlatFile(src);
        await compactFlatFile(src, dst, info, remap, kept);
        next = readNative(dst, kept, this.dimension);
      } finally {
        await rm(src, { force: true });
        await rm(dst, { force: true });
      }
    }
    this.native(); // still open?
    const dropped = flatFileBytes(this.dimension, this.ids.positions);
    this.nativeIndex = next;
    this.ids.compact();
    await releaseDropped(dropped);
  }
}

/** `faiss.read` of a file already validated by `inspect*File`; checks what it got. */
export function readNative(file: string, ntotal: number, d: number): NativeIndex {
  let native: NativeIndex;
  try {
    native = loadFaiss().Index.read(file);
  } catch (cause) {
    throw new IndexCorruptError(file, 'FAISS cannot read it', { cause });
  }
  if (native.ntotal() !== ntotal || native.getDimension() !== d) {
    throw new IndexCorruptError(file, `FAISS read ${native.ntotal()} × ${native.getDimension()}, expected ${ntotal} × ${d}`);
  }
  return native;
}
