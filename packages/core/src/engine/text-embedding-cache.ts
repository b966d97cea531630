import { LRUCache } from 'lru-cache';
import type { Embedder } from '../embedder.js';

/** Query texts whose embeddings are kept (each ~2 KiB at 512 dimensions). */
export const TEXT_CACHE_ENTRIES = 512;

/**
 * Recent query-text embeddings, least recently used first out, keyed by model and the query's
 * texts: typing a query sends every prefix, and going back (a backspace, a repeated search, the
 * next page of results) then costs no model run. A query's texts are cached together, as the
 * model embedded them in one batch (a quantized tower's output depends slightly on the rest of
 * its batch), so a cached answer is exactly the uncached one. Callers never mutate the result.
 */
export class TextEmbeddingCache {
  readonly #cache: LRUCache<string, Float32Array>;

  constructor(max = TEXT_CACHE_ENTRIES) {
    this.#cache = new LRUCache({ max });
  }

  /** Entries held. */
  get size(): number {
    return this.#cache.size;
  }

  /** `embedder.embedTexts(texts)`, from the cache when these texts were embedded recently by this model. */
  async embed(embedder: Embedder, texts: readonly string[]): Promise<Float32Array> {
    const k = JSON.stringify([embedder.modelId, embedder.dimension, texts]);
    const hit = this.#cache.get(k);
    if (hit) return hit;
    const v = await embedder.embedTexts(texts);
    this.#cache.set(k, v);
    return v;
  }

  clear(): void {
    this.#cache.clear();
  }
}
