// The worker threads of the `exact` backend, one per shard, and the request/reply plumbing.
import { ClosedError, PixsearchError } from '@pixsearch/core';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ShardInit, ShardReply, ShardRequest } from './exact-protocol.js';

/** A reply that succeeded. */
export type ShardOk = Extract<ShardReply, { ok: true }>;

/** A shard worker reported a saved file it read as impossible (the caller maps it to IndexCorruptError). */
export class ShardCorruptError extends Error {}

interface Pending {
  resolve(reply: ShardOk): void;
  reject(err: Error): void;
}

function spawn(init: ShardInit): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // Running from TypeScript sources (tests, tsx): load the worker module through tsx.
    const file = fileURLToPath(new URL('./exact-worker.ts', here));
    const tsx = createRequire(here).resolve('tsx/cjs/api');
    return new Worker(`require(${JSON.stringify(tsx)}).require(${JSON.stringify(file)}, ${JSON.stringify(file)});`, { eval: true, workerData: init });
  }
  return new Worker(new URL('./exact-worker.js', here), { workerData: init });
}

/**
 * `count` worker threads, each owning one shard. Requests to one worker are answered in the
 * order they were posted, so a search posted after an add sees it. Workers do not keep the
 * process alive while idle. `terminate()` waits for the requests already posted.
 */
export class ShardPool {
  private readonly workers: Worker[] = [];
  private readonly pending: Map<number, Pending>[] = [];
  private nextId = 0;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(
    init: ShardInit,
    readonly count: number,
  ) {
    for (let i = 0; i < count; i++) {
      const worker = spawn(init);
      worker.unref();
      const pending = new Map<number, Pending>();
      worker.on('message', (reply: ShardReply) => {
        const p = pending.get(reply.id);
        if (!p) return;
        pending.delete(reply.id);
        if (pending.size === 0) worker.unref();
        if (reply.ok) p.resolve(reply);
        else if (reply.code === 'corrupt') p.reject(new ShardCorruptError(reply.message));
        else p.reject(new PixsearchError('INDEX_WORKER', `exact index shard ${i}: ${reply.message}`));
        this.checkDrained();
      });
      const fail = (err: Error) => this.fail(new PixsearchError('INDEX_WORKER', `exact index shard ${i} stopped: ${err.message}`, { cause: err }));
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!this.closing) fail(new Error(`worker exited with code ${code}`));
      });
      this.workers.push(worker);
      this.pending.push(pending);
    }
  }

  /** Posts `req` to shard `shard`; resolves with its reply. Arrays in `transfer` move to the worker. */
  call(shard: number, req: ShardRequest, transfer: ArrayBuffer[] = []): Promise<ShardOk> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new ClosedError('exact index'));
    const id = this.nextId++;
    const worker = this.workers[shard]!;
    const pending = this.pending[shard]!;
    return new Promise<ShardOk>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, req }, transfer);
    });
  }

  /** Posts one request to every shard (`make(shard)`; `undefined` skips that shard) and awaits all replies. */
  all(make: (shard: number) => { req: ShardRequest; transfer?: ArrayBuffer[] } | undefined): Promise<(ShardOk | undefined)[]> {
    const calls: Promise<ShardOk | undefined>[] = [];
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
