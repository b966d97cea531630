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
  type FileBackendFactory,
  type FileVectorIndex,
  type IndexCapabilities,
  type IndexManifest,
  type Metric,
  type Neighbors,
  type SearchParams,
} from '@pixsearch/core';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { shardOf, type ShardHits, type ShardInit, type ShardRequest } from './exact-protocol.js';
import type { ManifestHeader } from './manifest-header.js';
import { enumParam, intParam, rejectUnknownParams, type RawParams } from './params.js';
import { WorkerCorruptError, WorkerPool } from './worker-pool.js';
import { USEARCH_LIBRARY } from './usearch-index.js';
import { loadUsearchAddon, usearchAddonPaths } from './usearch-native.js';

/** Build parameters of the `exact` backend. */
export interface ExactParams {
  /** Shard worker threads; 0 = one per core (availableParallelism). 0..256, default 0. */
  threads: number;
  /**
   * What a search scans: `f32` (the stored vectors: exact) or `i8` (codes a quarter the size;
   * the best k × rerank candidates are re-ranked with the f32 vectors; cosine only). Default `f32`.
   */
  quantization: 'f32' | 'i8';
  /** i8 only: candidates re-ranked per result (k × rerank, at least 32). 1..100, default 4. */
  rerank: number;
}

export const EXACT_DEFAULTS: Readonly<ExactParams> = { threads: 0, quantization: 'f32', rerank: 4 };

/** What the `exact` backend can do: exact top-k with the f32 scan; no search parameters. */
export const EXACT_CAPABILITIES: IndexCapabilities = Object.freeze({
  exact: true,
  remove: true,
  searchParams: Object.freeze([]),
  metrics: Object.freeze(['cosine', 'l2'] as const),
});

/** The i8 scan re-ranks candidates: near-exact (recall in the benchmark), cosine only. */
const EXACT_I8_CAPABILITIES: IndexCapabilities = Object.freeze({ ...EXACT_CAPABILITIES, exact: false, metrics: Object.freeze(['cosine'] as const) });

/** Rows per storage segment in a shard worker (128 MiB at 512-d f32). */
const SEGMENT_ROWS = 65_536;
/** Queries per round trip to the shards; the event loop gets a turn between rounds. */
const QUERY_CHUNK = 1024;
/** Searches with up to this many query rows wait for the round in flight and join the next one. */
const COALESCE_MAX_ROWS = 64;
/** Rows per chunk when moving vectors out (see `exportRows`). */
const EXPORT_CHUNK = 8192;

/** Parses and validates `exact` parameters (`dtype` is accepted as an alias of `quantization`). */
export function parseExactParams(raw: RawParams, metric: Metric): ExactParams {
  rejectUnknownParams('exact', raw, ['threads', 'quantization', 'dtype', 'rerank']);
  const quantization = enumParam(raw.dtype !== undefined ? { quantization: raw.dtype } : raw, 'quantization', EXACT_DEFAULTS.quantization, ['f32', 'i8'] as const);
  if (quantization === 'i8' && metric !== 'cosine') {
    throw new InvalidArgumentError('exact quantization "i8" supports metric "cosine" only');
  }
  return {
    threads: intParam(raw, 'threads', EXACT_DEFAULTS.threads, 0, 256),
    quantization,
    rerank: intParam(raw, 'rerank', EXACT_DEFAULTS.rerank, 1, 100),
  };
}

/**
 * `exact` backend: brute-force top-k over every stored vector, scanned with USearch's SIMD
 * kernel (`exactSearch`: AVX-512/AVX2/NEON dot products) in worker threads — one shard per core,
 * each scanning its part on its own core, so one query uses every core and the main thread only
 * posts the query and merges k results per shard. Near the memory-bandwidth floor: a query reads
 * each stored byte once.
 *
 * - Scores: `cosine` → inner product (vectors are expected L2-normalised), `l2` → −squared
 *   distance; the returned scores are recomputed in double precision.
 * - Ids are spread over the shards by a hash; adding an existing id replaces its vector in place,
 *   removal moves the shard's last row into the hole (no tombstones, no compaction).
 * - Saved as one file: the ids (f64) then the rows (f32), written by the workers in parallel.
 * - Memory: 4 × dimension + ~60 bytes per vector (+ dimension bytes with `i8`), in the workers.
 *
 * The caller owns the index: `close()` ends the workers once queued operations have settled.
 */
export class ExactIndex implements FileVectorIndex {
  readonly backend = 'exact' as const;
  readonly persistence = 'files' as const;
  readonly capabilities: IndexCapabilities;
  readonly params: Readonly<ExactParams>;

  private readonly pool: WorkerPool<ShardRequest>;
  /** Rows per shard, as last reported by the workers. */
  private readonly sizes: number[];
  private readonly queue = new SerialQueue();
  private closed = false;
  private readonly searchWaiters: (() => void)[] = [];
  /** Single-query searches waiting for the round in flight to finish (see {@link search}). */
  private readonly waiting: WaitingSearch[] = [];
  /** Whether a coalesced search round is at the shard workers. */
  private roundInFlight = false;
  /** `close()` calls waiting for the searches already accepted. */
  private readonly drained: (() => void)[] = [];
  /** Search rounds posted to the shards, and queries they carried (diagnostics, tests). */
  private readonly counters = { rounds: 0, queries: 0 };

  private constructor(
    readonly dimension: number,
    readonly metric: Metric,
    params: ExactParams,
  ) {
    this.params = Object.freeze({ ...params });
    this.capabilities = params.quantization === 'i8' ? EXACT_I8_CAPABILITIES : EXACT_CAPABILITIES;
    loadUsearchAddon(); // fails here with DependencyMissingError rather than in a worker
    const shards = params.threads === 0 ? availableParallelism() : Math.min(params.threads, availableParallelism() * 4);
    const init: ShardInit = {
      dimension,
      metric: metric === 'cosine' ? 'ip' : 'l2sq',
      quantization: params.quantization,
      rerank: params.rerank,
      segmentRows: SEGMENT_ROWS,
      addon: usearchAddonPaths(),
    };
    this.pool = new WorkerPool<ShardRequest>('exact-worker', init, shards, 'exact index shard');
    this.sizes = new Array<number>(shards).fill(0);
  }

  /** Creates an empty index. */
  static async create(dimension: number, metric: Metric, rawParams: RawParams = {}): Promise<ExactIndex> {
    checkGeometry(dimension, metric);
    return new ExactIndex(dimension, metric, parseExactParams(rawParams, metric));
  }

  /** Loads an index saved by {@link save}. Throws `IndexCorruptError` on any inconsistency. */
  static async load(dir: string, manifest: IndexManifest): Promise<ExactIndex> {
    if (manifest.backend !== 'exact') throw new IndexCorruptError(dir, `manifest is for backend "${manifest.backend}", not exact`);
    let params: ExactParams;
    try {
      checkGeometry(manifest.dimension, manifest.metric);
      params = parseExactParams(manifest.params, manifest.metric);
    } catch (cause) {
      throw new IndexCorruptError(dir, `manifest parameters are invalid: ${(cause as Error).message}`, { cause });
    }
    const { dimension: d, count } = manifest;
    if (!Number.isSafeInteger(count) || count < 0) throw new IndexCorruptError(dir, `manifest count ${count} is invalid`);
    const file = await indexDataFile(dir, manifest, 'vectors');
    const expected = count * (8 + 4 * d);
    if (manifest.files.vectors!.bytes !== expected) {
      throw new IndexCorruptError(dir, `the vectors file has ${manifest.files.vectors!.bytes} bytes, ${count} vectors of dimension ${d} take ${expected}`);
    }
    const index = new ExactIndex(d, manifest.metric, params);
    try {
      const saved = manifest.extra?.shards;
      const W = index.pool.count;
      // Saved with as many shards as now: each worker reads its own block. Otherwise every
      // worker reads the whole file and keeps the rows its shards own.
      const blocks = Array.isArray(saved) && saved.length === W && saved.every((n) => Number.isSafeInteger(n) && n >= 0) && (saved as number[]).reduce((a, b) => a + b, 0) === count ? (saved as number[]) : undefined;
      let from = 0;
      const replies = await index.pool.all((shard) => {
        const range = blocks ? { from, to: (from += blocks[shard]!) } : { from: 0, to: count };
        return { req: { op: 'load', file, total: count, ...range, shard, shards: W, strict: blocks !== undefined } };
      });
      replies.forEach((r, s) => (index.sizes[s] = r!.size));
      if (index.size !== count) throw new WorkerCorruptError(`it holds ${index.size} distinct vectors, the manifest says ${count}`);
    } catch (err) {
      await index.close();
      if (err instanceof WorkerCorruptError) throw new IndexCorruptError(dir, err.message, { cause: err });
      throw err;
    }
    return index;
  }

  /** Live vectors (0 once closed). */
  get size(): number {
    if (this.closed) return 0;
    let n = 0;
    for (const s of this.sizes) n += s;
    return n;
  }

  async add(ids: ArrayLike<number>, vectors: Float32Array): Promise<void> {
    this.assertOpen();
    checkIds(ids);
    checkVectors(vectors, this.dimension, ids.length);
    if (ids.length === 0) return;
    const d = this.dimension;
    const W = this.pool.count;
    // Split the batch by shard (copies: the caller keeps its arrays).
    const shardOfRow = new Uint16Array(ids.length);
    const counts = new Array<number>(W).fill(0);
    for (let i = 0; i < ids.length; i++) counts[(shardOfRow[i] = shardOf(ids[i]!, W))]!++;
    const parts = counts.map((n) => ({ ids: new Float64Array(n), vectors: new Float32Array(n * d), n: 0 }));
    for (let i = 0; i < ids.length; i++) {
      const p = parts[shardOfRow[i]!]!;
      p.ids[p.n] = ids[i]!;
      p.vectors.set(vectors.subarray(i * d, (i + 1) * d), p.n * d);
      p.n++;
    }
    await this.queue.run(async () => {
      this.assertOpen();
      const replies = await this.pool.all((s) =>
        counts[s]! > 0 ? { req: { op: 'add', ids: parts[s]!.ids, vectors: parts[s]!.vectors }, transfer: [parts[s]!.ids.buffer, parts[s]!.vectors.buffer] } : undefined,
      );
      this.record(replies);
    });
  }

  async remove(ids: ArrayLike<number>): Promise<number> {
    this.assertOpen();
    checkIds(ids);
    const W = this.pool.count;
    const byShard: number[][] = Array.from({ length: W }, () => []);
    for (let i = 0; i < ids.length; i++) byShard[shardOf(ids[i]!, W)]!.push(ids[i]!);
    return this.queue.run(async () => {
      this.assertOpen();
      const replies = await this.pool.all((s) => (byShard[s]!.length > 0 ? { req: { op: 'remove', ids: Float64Array.from(byShard[s]!) } } : undefined));
      this.record(replies);
      return replies.reduce((sum, r) => sum + ((r?.value as number | undefined) ?? 0), 0);
    });
  }

  /** Resolves to whether `id` is present. */
  async contains(id: number): Promise<boolean> {
    this.assertOpen();
    if (!Number.isSafeInteger(id) || id < 0) return false;
    const reply = await this.pool.call(shardOf(id, this.pool.count), { op: 'has', ids: Float64Array.of(id) });
    return (reply.value as Uint8Array)[0] === 1;
  }

  /**
   * Top `k` for each query row. Searches that arrive while a round is at the shard workers wait
   * and then go together, in one round (one pass over the stored rows serves them all: the kernel
   * computes each row's distance to every query of the round while the row is in cache), grouped by
   * `k` in arrival order. Each query's neighbours are exactly those of a search on its own: the
   * kernel scores every (row, query) pair independently and sorts per query.
   */
  async search(queries: Float32Array, k: number, params: SearchParams = {}): Promise<Neighbors[]> {
    this.assertOpen();
    checkK(k);
    checkSearchParams(this.backend, this.capabilities.searchParams, params); // it takes none
    const rows = checkVectors(queries, this.dimension);
    if (rows === 0) return [];
    let result: Promise<Neighbors[]>;
    if (rows > COALESCE_MAX_ROWS) result = this.searchRounds(queries, rows, k);
    else {
      result = new Promise<Neighbors[]>((resolve, reject) => {
        // A copy: the caller may reuse its array while this waits.
        this.waiting.push({ queries: queries.slice(), rows, k, resolve, reject });
        this.pumpSearches();
      });
    }
    for (const notify of this.searchWaiters.splice(0)) notify();
    return result;
  }

  /** Search rounds posted to the shard workers so far, and the queries they carried. */
  get searchStats(): { rounds: number; queries: number } {
    return { ...this.counters };
  }

  /** Posts the next round when none is in flight: the oldest waiting search and every later one with its `k`. */
  private pumpSearches(): void {
    if (this.roundInFlight) return;
    if (this.waiting.length === 0) {
      for (const done of this.drained.splice(0)) done();
      return;
    }
    const k = this.waiting[0]!.k;
    const round: WaitingSearch[] = [];
    let rows = 0;
    for (let i = 0; i < this.waiting.length && rows < QUERY_CHUNK; ) {
      const w = this.waiting[i]!;
      if (w.k === k && rows + w.rows <= QUERY_CHUNK) {
        round.push(w);
        rows += w.rows;
        this.waiting.splice(i, 1);
      } else i++;
    }
    const d = this.dimension;
    const batch = new Float32Array(rows * d);
    let filled = 0;
    for (const w of round) {
      batch.set(w.queries, filled * d);
      filled += w.rows;
    }
    this.roundInFlight = true;
    this.searchRounds(batch, rows, k)
      .then(
        (all) => {
          let at = 0;
          for (const w of round) {
            w.resolve(all.slice(at, at + w.rows));
            at += w.rows;
          }
        },
        (err: unknown) => {
          for (const w of round) w.reject(err);
        },
      )
      .finally(() => {
        this.roundInFlight = false;
        this.pumpSearches();
      });
  }

  /** Searches `rows` queries in rounds of at most QUERY_CHUNK. */
  private async searchRounds(queries: Float32Array, rows: number, k: number): Promise<Neighbors[]> {
    const d = this.dimension;
    const out: Neighbors[] = [];
    for (let start = 0; start < rows; start += QUERY_CHUNK) {
      const n = Math.min(QUERY_CHUNK, rows - start);
      const chunk = queries.slice(start * d, (start + n) * d);
      const posted = this.pool.all(() => ({ req: { op: 'search', queries: chunk, k } }));
      this.counters.rounds++;
      this.counters.queries += n;
      const replies = await posted;
      const hits = replies.map((r) => r!.value as ShardHits);
      for (let q = 0; q < n; q++) out.push(mergeHits(hits, q, k));
    }
    return out;
  }

  async save(dir: string): Promise<void> {
    await this.saveAs(dir, { backend: 'exact', params: { ...this.params } });
  }

  /** Saves with another backend's manifest header (the `auto` backend wraps this index). */
  async saveAs(dir: string, header: ManifestHeader): Promise<void> {
    this.assertOpen();
    await this.queue.run(async () => {
      this.assertOpen();
      const sizes = this.sizes.slice();
      const total = sizes.reduce((a, b) => a + b, 0);
      const d = this.dimension;
      await saveIndexDir(
        dir,
        {
          ...header,
          library: `usearch@${loadUsearchAddon().version()}`,
          dimension: d,
          metric: this.metric,
          count: total,
          extra: { ...header.extra, layout: 'ids f64 × count, then rows f32 × count × dimension (little-endian)', shards: sizes },
        },
        {
          vectors: async (tmp) => {
            const fh = await open(tmp, 'w');
            try {
              await fh.truncate(total * (8 + 4 * d));
              let before = 0;
              await this.pool.all((s) => {
                const at = before;
                before += sizes[s]!;
                return sizes[s]! > 0 ? { req: { op: 'write', fd: fh.fd, idsAt: at * 8, rowsAt: total * 8 + at * d * 4 } } : undefined;
              });
              await fh.sync();
            } finally {
              await fh.close();
            }
          },
        },
      );
    });
  }

  /**
   * Hands every stored vector to `sink` in chunks (ids, row-major vectors), with no write in
   * between; for moving the vectors into another index without re-embedding.
   */
  async exportRows(sink: (ids: Float64Array, vectors: Float32Array) => Promise<void>): Promise<void> {
    this.assertOpen();
    await this.queue.run(async () => {
      for (let s = 0; s < this.pool.count; s++) {
        for (let from = 0; from < this.sizes[s]!; from += EXPORT_CHUNK) {
          const reply = await this.pool.call(s, { op: 'export', from, count: EXPORT_CHUNK });
          const { ids, vectors } = reply.value as { ids: Float64Array; vectors: Float32Array };
          await sink(ids, vectors);
        }
      }
    });
  }

  /**
   * Holds every shard worker until the returned function is called: operations posted meanwhile
   * wait. For tests that need a search to stay in flight (e.g. to show the event loop stays free).
   */
  async suspend(): Promise<() => Promise<void>> {
    this.assertOpen();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const held = this.pool.all(() => ({ req: { op: 'hold', flag } }));
    return async () => {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await held;
    };
  }

  /**
   * Resolves when the next search has been posted to the shard workers, or queued behind the
   * round in flight (with `suspend()`, a test knows the search is in the index and cannot finish
   * until it releases the workers).
   */
  nextSearch(): Promise<void> {
    return new Promise((resolve) => this.searchWaiters.push(resolve));
  }

  /** Ends the workers once the operations already posted have settled. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    // Searches accepted before the close still get their answers (as they did when each was
    // posted at once): the waiting ones go out in their rounds, then the workers end.
    if (this.roundInFlight || this.waiting.length > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    await this.pool.terminate();
  }

  private record(replies: ({ size: number } | undefined)[]): void {
    replies.forEach((r, s) => {
      if (r) this.sizes[s] = r.size;
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('exact index');
  }
}

/** A search waiting for the next round. */
interface WaitingSearch {
  queries: Float32Array;
  rows: number;
  k: number;
  resolve: (hits: Neighbors[]) => void;
  reject: (err: unknown) => void;
}

/** The best `k` of the shards' results for query `q` (each shard's list best first), merged; ties: smaller id first. */
function mergeHits(hits: ShardHits[], q: number, k: number): Neighbors {
  let total = 0;
  for (const h of hits) total += h.counts[q]!;
  const m = Math.min(k, total);
  const ids = new Array<number>(m);
  const scores = new Array<number>(m);
  const heads = new Int32Array(hits.length);
  for (let i = 0; i < m; i++) {
    let best = -1;
    let bestScore = -Infinity;
    let bestId = 0;
    for (let s = 0; s < hits.length; s++) {
      const h = hits[s]!;
      if (heads[s]! >= h.counts[q]!) continue;
      const score = h.scores[q * k + heads[s]!]!;
      const id = h.ids[q * k + heads[s]!]!;
      if (best < 0 || score > bestScore || (score === bestScore && id < bestId)) {
        best = s;
        bestScore = score;
        bestId = id;
      }
    }
    ids[i] = bestId;
    scores[i] = bestScore;
    heads[best]!++;
  }
  return { ids, scores };
}

/** Registry entry for the `exact` backend. */
export const exactBackend: FileBackendFactory = {
  name: 'exact',
  persistence: 'files',
  description: 'exact top-k: USearch SIMD scan of every vector in worker threads (one shard per core), off the main thread',
  library: USEARCH_LIBRARY,
  capabilities: EXACT_CAPABILITIES,
  buildParams: [
    { name: 'threads', type: 'integer', min: 0, max: 256, default: EXACT_DEFAULTS.threads, description: 'shard worker threads; 0 = one per core' },
    { name: 'quantization', type: 'string', values: ['f32', 'i8'], default: EXACT_DEFAULTS.quantization, description: 'what a search scans (alias dtype): f32 (exact) or i8 codes re-ranked with f32 (cosine only)' },
    { name: 'rerank', type: 'integer', min: 1, max: 100, default: EXACT_DEFAULTS.rerank, description: 'i8: candidates re-ranked per result (k × rerank, at least 32)' },
  ],
  create: ({ dimension, metric, params }) => ExactIndex.create(dimension, metric, params),
  load: (dir, manifest) => ExactIndex.load(dir, manifest),
};
