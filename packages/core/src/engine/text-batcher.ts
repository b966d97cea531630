import type { Embedder } from '../embedder.js';
import { AbortedError } from '../errors.js';

/**
 * Test hook: called with the queries (their texts, in queue order) of each model run just before
 * it starts; a returned promise holds the tower busy.
 */
export type BeforeTextRun = (queries: readonly (readonly string[])[]) => void | Promise<void>;

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
export class TextBatcher {
  readonly #queue: Pending[] = [];
  #running = false;

  constructor(
    readonly embedder: Embedder,
    readonly maxBatchTexts: number,
    readonly beforeRun: BeforeTextRun | undefined,
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
