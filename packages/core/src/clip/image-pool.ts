// A small pool of worker threads that decode and transform images, so that the main thread
// (a server's event loop) only orchestrates: decoding + resizing a 12-megapixel photo takes
// 100+ ms of CPU that would otherwise block it.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ImageDecodeError, PixsearchError } from '../errors.js';
import { runImageJob, type ImageJob, type ImageJobResult } from './image-worker.js';
import type { PreprocessConfig, PreprocessMode } from './preprocess.js';

export interface PreprocessedTensor {
  data: Float32Array;
  width: number;
  height: number;
  source: { width: number; height: number; format: string };
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: ImageJobResult) => void; reject: (e: Error) => void }>;
}

function spawn(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from TypeScript sources (tests, tsx): load the worker module through tsx.
    const file = fileURLToPath(new URL('./image-worker.ts', here));
    const tsx = createRequire(here).resolve('tsx/cjs/api');
    return new Worker(`require(${JSON.stringify(tsx)}).require(${JSON.stringify(file)}, ${JSON.stringify(file)});`, { eval: true });
  }
  return new Worker(new URL('./image-worker.js', here));
}

/** Decodes images in `size` worker threads (0 = on the calling thread). `close()` ends them. */
export class ImagePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(private readonly size: number) {}

  private slot(): Slot | undefined {
    if (this.size <= 0) return undefined;
    if (this.slots.length < this.size) {
      let worker: Worker;
      try {
        worker = spawn();
      } catch {
        return undefined; // no worker support here: decode in-thread
      }
      worker.unref();
      const slot: Slot = { worker, pending: new Map() };
      worker.on('message', (res: ImageJobResult) => {
        const p = slot.pending.get(res.id);
        if (!p) return;
        slot.pending.delete(res.id);
        if (slot.pending.size === 0) worker.unref();
        p.resolve(res);
      });
      const fail = (err: Error) => {
        for (const p of slot.pending.values()) p.reject(err);
        slot.pending.clear();
        const i = this.slots.indexOf(slot);
        if (i >= 0) this.slots.splice(i, 1);
      };
      worker.on('error', (err) => fail(new PixsearchError('IMAGE_WORKER', `image decoding worker failed: ${err.message}`, { cause: err })));
      worker.on('exit', (code) => {
        if (!this.closed) fail(new PixsearchError('IMAGE_WORKER', `image decoding worker exited (code ${code})`));
      });
      this.slots.push(slot);
      return slot;
    }
    return this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  /** Decodes and transforms one image; throws ImageDecodeError for a bad image. */
  async preprocess(input: string | Uint8Array, config: PreprocessConfig, limitInputPixels: number | undefined, preprocess?: PreprocessMode, reducingGap?: number | null): Promise<PreprocessedTensor> {
    const job: ImageJob = { id: this.nextId++, input, config, limitInputPixels, reducingGap, preprocess };
    const slot = this.closed ? undefined : this.slot();
    const res = slot
      ? await new Promise<ImageJobResult>((resolve, reject) => {
          slot.pending.set(job.id, { resolve, reject });
          slot.worker.ref();
          slot.worker.postMessage(job);
        })
      : await runImageJob(job);
    if (!res.ok) throw new ImageDecodeError(res.source, res.reason, res.message);
    return res;
  }

  /** Ends the worker threads. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
