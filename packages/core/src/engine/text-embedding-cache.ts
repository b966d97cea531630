import { LRUCache } from 'lru-cache';
import type { Embedder } from '../embedder.js';
import { TextBatcher, type BeforeTextRun } from './text-batcher.js';

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
  beforeRun?: BeforeTextRun;
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
  readonly #beforeRun: BeforeTextRun | undefined;

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
