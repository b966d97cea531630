import { AbortedError, PixsearchError } from '@pixsearch/core';

/** The queue of a {@link Limiter} is full: the caller should retry later (HTTP 503). */
export class OverloadedError extends PixsearchError {
  constructor(what: string) {
    super('OVERLOADED', `too many ${what} waiting; try again shortly`);
  }
}

/**
 * Text searches the server runs at once by default. Measured with `bench:load` (100k × 512,
 * ViT-B/32-size quantized text tower, 10 connections of unique queries, 2-core AMD EPYC): 1 →
 * 78 req/s, 8 → 121 req/s in the same run, at 0.71× the CPU per request.
 */
export const DEFAULT_SEARCH_CONCURRENCY = 8;

/**
 * Runs at most `concurrency` async tasks at once and queues up to `maxQueue` more (FIFO);
 * beyond that {@link run} rejects at once with {@link OverloadedError} (HTTP 503 + Retry-After).
 *
 * Why the server bounds engine queries: each one holds memory (its query vector, its hits and
 * catalog rows) and some main-thread work (catalog lookups, JSON). The heavy parts run off the
 * event loop — the text tower in the embedder's worker thread, index scans in the backend's
 * worker threads (or a server) — and queries in progress together are batched there: the text
 * tower embeds the queries that arrived while it was busy in one run, the `exact` backend scans
 * once for all the queries waiting. So a bound of a few (see {@link DEFAULT_SEARCH_CONCURRENCY})
 * lets batches form, other requests (thumbnails, status, the page) still interleave, and an
 * overload turns into fast 503s instead of unbounded latency and memory.
 */
export class Limiter {
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    /** Tasks running at once, ≥ 1. */
    readonly concurrency: number,
    /** Tasks allowed to wait, ≥ 0. */
    readonly maxQueue: number,
    /** Noun for the overload message, e.g. `searches`. */
    readonly what = 'requests',
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${concurrency}`);
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`maxQueue must be an integer ≥ 0, got ${maxQueue}`);
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * Runs `task` when a slot is free; rejects with {@link OverloadedError} when the queue is full,
   * and with `AbortedError` when `signal` aborts while the task still waits (it then never runs,
   * and leaves the queue at once: a client that went away holds no place in it).
   */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new AbortedError(this.what.replace(/s$/, ''));
    if (this.#active >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueue) throw new OverloadedError(this.what);
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const i = this.#waiting.indexOf(go);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(new AbortedError(this.what.replace(/s$/, '')));
        };
        const go = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiting.push(go);
      });
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot over directly (active stays the same), else release it.
      if (next) next();
      else this.#active--;
    }
  }
}
