import { LRUCache } from 'lru-cache';
import type { Embedder } from '../embedder.js';
import { AbortedError } from '../errors.js';

/** Query texts whose embeddings are kept (each ~2 KiB at 512 dimensions). */
export const TEXT_CACHE_ENTRIES = 512;

/**
 * Most texts embedded in one model run by the micro-batcher. Measured on the ViT-B/32-size
 * quantized text tower (one intra-op thread, 2-core AMD EPYC): ~4.8 CPU-ms per text alone,
 * ~3.0 per text in batches of 8–16; larger batches only add latency for the first query in them.
 */
export const TEXT_BATCH_TEXTS = 16;

export interface TextEmbeddingCacheOptions {
  /** Texts per model run when queries queue up, ≥ 1 (default {@link TEXT_BATCH_TEXTS}; 1 turns batching off). */
  maxBatchTexts?: number;
  /**
   * Test hook: called with the queries (their texts, in queue order) of each model run just before
   * it starts. Lets a test hold the tower busy (return a promise) and see which queries ran together.
   */
  beforeRun?: (queries: readonly (readonly string[])[]) => void | Promise<void>;
}

/** One query waiting for (or in) a model run. */
interface Pending {
  texts: readonly string[];
  resolve: (v: Float32Array) => void;
  reject: (err: unknown) => void;
  /** Settled already (aborted while waiting or running): its result is dropped. */
  done: boolean;
  cleanup: () => void;
}

/**
 * Micro-batcher of one embedder's text tower: a query that arrives while the tower is idle runs at
 * once, alone; queries that arrive while it is busy wait and then run together, in arrival order,
 * in one `embedTexts` call of up to `maxBatchTexts` texts (a query's texts are never split). One
 * model run at a time: the tower's thread is saturated by one run, and the batch grows with the load.
 *
 * - Results: each query gets its own rows. The fp32 tower gives the same rows as alone (to ~1e-6);
 *   a dynamically quantized tower (the hub's `*_quantized.onnx`, the default) quantizes
 *   activations per run, so a query's rows move by up to ~2e-3 per component (cosine ≥ 0.9998,
 *   measured on the ViT-B/32-size tower) with the rest of its batch — the same order as the
 *   quantization error itself, but not bit-identical.
 * - Errors: a failed batch is retried query by query, so only the query that fails gets the error.
 * - Abort: a query whose signal aborts is dropped from the queue (or its rows ignored if its run
 *   already started) and rejects with `AbortedError` at once; the others are not affected.
 */
class TextBatcher {
  readonly #queue: Pending[] = [];
  #running = false;

  constructor(
    readonly embedder: Embedder,
    readonly maxBatchTexts: number,
    readonly beforeRun: TextEmbeddingCacheOptions['beforeRun'],
  ) {}

  /** Queries waiting for the tower (not counting the run in progress). */
  get queued(): number {
    return this.#queue.length;
  }

  embed(texts: readonly string[], signal: AbortSignal | undefined): Promise<Float32Array> {
    if (signal?.aborted) return Promise.reject(new AbortedError('text embedding'));
    return new Promise<Float32Array>((resolve, reject) => {
      const onAbort = (): void => {
        if (p.done) return;
        p.done = true;
        const i = this.#queue.indexOf(p);
        if (i >= 0) this.#queue.splice(i, 1);
        reject(new AbortedError('text embedding'));
      };
      const p: Pending = {
        texts,
        done: false,
        resolve: (v) => {
          if (p.done) return;
          p.done = true;
          p.cleanup();
          resolve(v);
        },
        reject: (err) => {
          if (p.done) return;
          p.done = true;
          p.cleanup();
          reject(err);
        },
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(p);
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#running || this.#queue.length === 0) return;
    // FIFO: the head always runs; followers join while the batch has room.
    const batch: Pending[] = [this.#queue.shift()!];
    let texts = batch[0]!.texts.length;
    while (this.#queue.length > 0 && texts + this.#queue[0]!.texts.length <= this.maxBatchTexts) {
      const next = this.#queue.shift()!;
      texts += next.texts.length;
      batch.push(next);
    }
    this.#running = true;
    void this.#run(batch).finally(() => {
      this.#running = false;
      this.#pump();
    });
  }

  async #run(batch: Pending[]): Promise<void> {
    const dim = this.embedder.dimension;
    try {
      await this.beforeRun?.(batch.map((p) => p.texts));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const live = batch.filter((p) => !p.done);
    if (live.length === 0) return;
    if (live.length === 1) {
      const p = live[0]!;
      await this.embedder.embedTexts(p.texts).then(p.resolve, p.reject);
      return;
    }
    let rows: Float32Array;
    try {
      rows = await this.embedder.embedTexts(live.flatMap((p) => p.texts));
    } catch {
      // One query's texts may be what failed: run them one by one so that only it gets the error.
      for (const p of live) if (!p.done) await this.embedder.embedTexts(p.texts).then(p.resolve, p.reject);
      return;
    }
    let at = 0;
    for (const p of live) {
      const n = p.texts.length;
      // A copy per query: callers (and the cache) keep their rows, never a view of the batch.
      p.resolve(rows.slice(at * dim, (at + n) * dim));
      at += n;
    }
  }
}

/**
 * Recent query-text embeddings, least recently used first out, keyed by model and the query's
 * texts: typing a query sends every prefix, and going back (a backspace, a repeated search, the
 * next page of results) then costs no model run. Misses go through a per-embedder
 * {@link TextBatcher}, so queries arriving together share model runs. A query's texts are
 * embedded in one run; a cached answer is the one the query first got (see TextBatcher for how
 * batching moves a quantized tower's rows). Callers never mutate the result.
 */
export class TextEmbeddingCache {
  readonly #cache: LRUCache<string, Float32Array>;
  readonly #batchers = new WeakMap<Embedder, TextBatcher>();
  readonly #maxBatchTexts: number;
  readonly #beforeRun: TextEmbeddingCacheOptions['beforeRun'];

  constructor(max = TEXT_CACHE_ENTRIES, options: TextEmbeddingCacheOptions = {}) {
    const maxBatch = options.maxBatchTexts ?? TEXT_BATCH_TEXTS;
    if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatchTexts must be an integer ≥ 1, got ${maxBatch}`);
    this.#cache = new LRUCache({ max });
    this.#maxBatchTexts = maxBatch;
    this.#beforeRun = options.beforeRun;
  }

  /** Entries held. */
  get size(): number {
    return this.#cache.size;
  }

  /** Queries waiting for `embedder`'s text tower behind the run in progress. */
  queued(embedder: Embedder): number {
    return this.#batchers.get(embedder)?.queued ?? 0;
  }

  /**
   * `embedder.embedTexts(texts)`, from the cache when these texts were embedded recently by this
   * model, else batched with the other queries waiting. Rejects with `AbortedError` once `signal`
   * aborts (the model run, if started, goes on for the others).
   */
  async embed(embedder: Embedder, texts: readonly string[], signal?: AbortSignal): Promise<Float32Array> {
    const k = JSON.stringify([embedder.modelId, embedder.dimension, texts]);
    const hit = this.#cache.get(k);
    if (hit) return hit;
    let batcher = this.#batchers.get(embedder);
    if (!batcher) {
      batcher = new TextBatcher(embedder, this.#maxBatchTexts, this.#beforeRun);
      this.#batchers.set(embedder, batcher);
    }
    const v = await batcher.embed(texts, signal);
    this.#cache.set(k, v);
    return v;
  }

  clear(): void {
    this.#cache.clear();
  }
}
