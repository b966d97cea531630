// Serialises an index's operations. FAISS calls are synchronous, but long ones (chunked adds,
// compaction, nprobe reloads) yield to the event loop between chunks; the queue guarantees no other
// operation sees the index half-way through one of them.
import { setImmediate as nextTick } from 'node:timers/promises';

/** Runs async operations one at a time, in call order. A failed operation does not block later ones. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(op: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(op);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Yields to the event loop when more than `sliceMs` of synchronous work ran since the last yield. */
export class Yielder {
  private last = performance.now();

  constructor(private readonly sliceMs = 20) {}

  async maybe(): Promise<void> {
    if (performance.now() - this.last < this.sliceMs) return;
    await nextTick();
    this.last = performance.now();
  }
}
