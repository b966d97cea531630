import { PixsearchError } from '@pixsearch/core';

/** The queue of a {@link Limiter} is full: the caller should retry later (HTTP 503). */
export class OverloadedError extends PixsearchError {
  constructor(what: string) {
    super('OVERLOADED', `too many ${what} waiting; try again shortly`);
  }
}

/**
 * Runs at most `concurrency` async tasks at once and queues up to `maxQueue` more (FIFO);
 * beyond that {@link run} rejects at once with {@link OverloadedError} (HTTP 503 + Retry-After).
 *
 * Why the server bounds engine queries: onnxruntime-node's `session.run()` executes
 * synchronously on the calling thread (inside a `setImmediate`); the CLIP embedder therefore runs
 * its sessions in a worker thread, so a model run never blocks the server's event loop. What
 * still runs on the main thread is the index search (FAISS is a synchronous native call: about
 * 5–15 ms for 100k × 512 flat on this machine), the catalog lookups and JSON. Without a bound, a
 * burst of N searches queues N embeddings in the worker and N index searches back to back, so
 * every request — thumbnails, status, the page — waits behind all of them, and memory grows with
 * N. With a small bound, other requests interleave between two searches, and an overload turns
 * into fast 503s instead of unbounded latency.
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

  /** Runs `task` when a slot is free; rejects with {@link OverloadedError} when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.concurrency) {
      if (this.#waiting.length >= this.maxQueue) throw new OverloadedError(this.what);
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
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
