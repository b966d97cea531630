import { LRUCache } from 'lru-cache';
import type { Embedder } from '../embedder.js';

/** Query texts whose embeddings are kept (each ~2 KiB at 512 dimensions). */
export const TEXT_CACHE_ENTRIES = 512;

/**
 * Recent query-text embeddings, least recently used first out, keyed by model and text: typing
 * a query sends every prefix, and going back (a backspace, a repeated search, the next page of
 * results) then costs no model run. Entries are read-only copies: callers never mutate them.
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

  /**
   * Embeddings of `texts` (rows of `embedder.dimension`, in order), running the model only for
   * the texts not cached (in one batch).
   */
  async embed(embedder: Embedder, texts: readonly string[]): Promise<Float32Array> {
    const dim = embedder.dimension;
    const out = new Float32Array(texts.length * dim);
    const missing: number[] = [];
    texts.forEach((t, i) => {
      const hit = this.#cache.get(key(embedder, t));
      if (hit && hit.length === dim) out.set(hit, i * dim);
      else missing.push(i);
    });
    if (missing.length > 0) {
      const unique = [...new Set(missing.map((i) => texts[i]!))];
      const v = await embedder.embedTexts(unique);
      const rows = new Map(unique.map((t, j) => [t, v.slice(j * dim, (j + 1) * dim)]));
      for (const [t, row] of rows) this.#cache.set(key(embedder, t), row);
      for (const i of missing) out.set(rows.get(texts[i]!)!, i * dim);
    }
    return out;
  }

  clear(): void {
    this.#cache.clear();
  }
}

function key(embedder: Embedder, text: string): string {
  return `${embedder.modelId}\u0000${embedder.dimension}\u0000${text}`;
}
