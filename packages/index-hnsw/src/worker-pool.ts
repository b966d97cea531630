// Worker threads that host index data (the `exact` backend's shards, `auto`'s HNSW graph) and
// the request/reply plumbing.
import { ClosedError, PixsearchError } from '@pixsearch/core';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What a worker answers to request `id`. */
export type WorkerReply =
  | { id: number; ok: true; size: number; value?: unknown }
  | { id: number; ok: false; code: string; name?: string; message: string };

/** A reply that succeeded. */
export type WorkerOk = Extract<WorkerReply, { ok: true }>;

/** A worker reported a saved file it read as impossible (the caller maps it to IndexCorruptError). */
export class WorkerCorruptError extends Error {}

interface Pending {
  resolve(reply: WorkerOk): void;
  reject(err: Error): void;
}

function spawn(script: string, workerData: unknown): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from TypeScript sources (tests, tsx): load the worker module through tsx, with
    // workspace packages resolved to their sources as in the main thread.
    const file = fileURLToPath(new URL(`./${script}.ts`, here));
    const tsx = createRequire(here).resolve('tsx/cjs/api');
    return new Worker(`require(${JSON.stringify(tsx)}).require(${JSON.stringify(file)}, ${JSON.stringify(file)});`, {
      eval: true,
      workerData,
      execArgv: ['--conditions=@pixsearch/source'], // (V8 flags of the parent may not be passed here)
    });
  }
  return new Worker(new URL(`./${script}.js`, here), { workerData });
}

/**
 * `count` worker threads running module `script` (a sibling of this file) with `workerData`.
 * Requests to one worker are answered in the order they were posted (for the shard workers,
 * so a search posted after an add sees it). Workers do not keep the process alive while idle.
 * `terminate()` waits for the requests already posted.
 */
export class WorkerPool<Request extends { op: string }> {
  private readonly workers: Worker[] = [];
  private readonly pending: Map<number, Pending>[] = [];
  private nextId = 0;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(
    script: string,
    workerData: unknown,
    readonly count: number,
    /** Names the workers in errors, e.g. "exact index shard". */
    private readonly what: string,
  ) {
    for (let i = 0; i < count; i++) {
      const worker = spawn(script, workerData);
      worker.unref();
      const pending = new Map<number, Pending>();
      worker.on('message', (reply: WorkerReply) => {
        const p = pending.get(reply.id);
        if (!p) return;
        pending.delete(reply.id);
        if (pending.size === 0) worker.unref();
        if (reply.ok) p.resolve(reply);
        else if (reply.code === 'corrupt' || reply.code === 'INDEX_CORRUPT') p.reject(new WorkerCorruptError(reply.message));
        else p.reject(new PixsearchError(reply.code === 'error' ? 'INDEX_WORKER' : reply.code, `${this.what} ${i}: ${reply.message}`));
        this.checkDrained();
      });
      const fail = (err: Error) => this.fail(new PixsearchError('INDEX_WORKER', `${this.what} ${i} stopped: ${err.message}`, { cause: err }));
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closing) fail(new Error(`worker exited with code ${code}`));
      });
      this.workers.push(worker);
      this.pending.push(pending);
    }
  }

  /** Posts `req` to worker `shard`; resolves with its reply. Arrays in `transfer` move to the worker. */
  call(shard: number, req: Request, transfer: ArrayBuffer[] = []): Promise<WorkerOk> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new ClosedError(this.what));
    const id = this.nextId++;
    const worker = this.workers[shard]!;
    const pending = this.pending[shard]!;
    return new Promise<WorkerOk>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, req }, transfer);
    });
  }

  /** Posts one request to every worker (`make(shard)`; `undefined` skips that one) and awaits all replies. */
  all(make: (shard: number) => { req: Request; transfer?: ArrayBuffer[] } | undefined): Promise<(WorkerOk | undefined)[]> {
    const calls: Promise<WorkerOk | undefined>[] = [];
    for (let s = 0; s < this.count; s++) {
      const m = make(s);
      calls.push(m ? this.call(s, m.req, m.transfer) : Promise.resolve(undefined));
    }
    return Promise.all(calls);
  }

  /** Waits for the requests already posted, then ends the workers. Idempotent. */
  terminate(): Promise<void> {
    this.closing ??= (async () => {
      if (!this.failure && this.pending.some((p) => p.size > 0)) {
        await new Promise<void>((resolve) => {
          this.drained = resolve;
        });
      }
      await Promise.all(this.workers.map((w) => w.terminate()));
    })();
    return this.closing;
  }

  private checkDrained(): void {
    if (this.drained && this.pending.every((p) => p.size === 0)) {
      this.drained();
      this.drained = undefined;
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const pending of this.pending) {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    }
    for (const w of this.workers) w.unref();
    this.checkDrained();
    void Promise.all(this.workers.map((w) => w.terminate()));
  }
}
