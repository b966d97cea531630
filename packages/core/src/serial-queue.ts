/**
 * Runs async tasks one at a time, in call order. Index adapters put every mutation and save
 * through one queue, so an add that yields to the event loop between chunks never interleaves
 * with another add, a remove, or a save that a native worker thread is reading. A failed task
 * does not block later ones.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Schedules `task` after all earlier ones; resolves or rejects with its outcome. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once every task scheduled so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}

/** Milliseconds of uninterrupted synchronous (native) work after which long loops yield to the event loop. */
export const YIELD_EVERY_MS = 20;

/** Lets the event loop run (timers, I/O, other requests) between chunks of long native work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Yields to the event loop when more than `sliceMs` of synchronous work ran since the last yield. */
export class Yielder {
  private last = performance.now();

  constructor(private readonly sliceMs = YIELD_EVERY_MS) {}

  async maybe(): Promise<void> {
    if (performance.now() - this.last < this.sliceMs) return;
    await yieldToEventLoop();
    this.last = performance.now();
  }
}
