import type { EngineStats } from '@pixsearch/core/engine';
import type { EngineLike } from './engine-like.js';

/**
 * Shares `engine.stats()` between requests for a short while. `stats()` sums the size of the
 * data directory (thumbnails included), which costs one `stat` per file: the page and
 * `/api/status` must not repeat that walk for every request. Concurrent callers share one call;
 * `invalidate()` (after a sync) forces a fresh one.
 */
export class StatsCache {
  #value: { at: number; stats: Promise<EngineStats> } | undefined;

  constructor(
    private readonly engine: EngineLike,
    /** How long a result is reused, ms. */
    private readonly maxAgeMs = 5000,
  ) {}

  get(): Promise<EngineStats> {
    const now = Date.now();
    if (this.#value && now - this.#value.at < this.maxAgeMs) return this.#value.stats;
    const stats = Promise.resolve(this.engine.stats());
    const entry = { at: now, stats };
    this.#value = entry;
    stats.catch(() => {
      if (this.#value === entry) this.#value = undefined;
    });
    return stats;
  }

  invalidate(): void {
    this.#value = undefined;
  }
}
