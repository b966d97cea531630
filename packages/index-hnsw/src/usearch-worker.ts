// Worker-thread side of `UsearchHost`: one USearch HNSW index (the `usearch` adapter) living in
// this thread, so its searches and its (slow) graph inserts never run on the main thread.
import { parentPort } from 'node:worker_threads';
import type { IndexManifest, Metric, SearchParams } from '@pixsearch/core';
import type { ManifestHeader } from './manifest-header.js';
import { UsearchIndex } from './usearch-index.js';
import type { WorkerReply } from './worker-pool.js';

/** Requests to a USearch worker. Inputs are validated by the main thread before they are posted. */
export type UsearchRequest =
  | { op: 'create'; dimension: number; metric: Metric; params: Record<string, number | string> }
  | { op: 'load'; dir: string; manifest: IndexManifest }
  | { op: 'add'; ids: Float64Array; vectors: Float32Array }
  | { op: 'remove'; ids: Float64Array }
  | { op: 'search'; queries: Float32Array; k: number; params: SearchParams }
  | { op: 'save'; dir: string; header: ManifestHeader }
  | { op: 'close' }
  /** Blocks the worker until `flag[0]` becomes non-zero (see UsearchHost.suspend). */
  | { op: 'hold'; flag: Int32Array };

if (parentPort) {
  const port = parentPort;
  let index: UsearchIndex | undefined;
  let closed = false;
  const handle = async (req: UsearchRequest): Promise<unknown> => {
    if (req.op === 'create') {
      index = await UsearchIndex.create(req.dimension, req.metric, req.params);
      return index.params;
    }
    if (req.op === 'hold') {
      while (Atomics.load(req.flag, 0) === 0) Atomics.wait(req.flag, 0, 0);
      return undefined;
    }
    if (req.op === 'load') {
      index = await UsearchIndex.load(req.dir, req.manifest);
      return index.params;
    }
    if (!index) throw new Error('no index in this worker');
    switch (req.op) {
      case 'add':
        return index.add(req.ids, req.vectors);
      case 'remove':
        return index.remove(req.ids);
      case 'search':
        return index.search(req.queries, req.k, req.params);
      case 'save':
        return index.saveAs(req.dir, req.header);
      case 'close':
        closed = true;
        return index.close();
    }
  };
  port.on('message', ({ id, req }: { id: number; req: UsearchRequest }) => {
    handle(req).then(
      (value) => port.postMessage({ id, ok: true, size: closed || !index ? 0 : index.size, value } satisfies WorkerReply),
      (err: unknown) => {
        const e = err as { code?: unknown; name?: unknown; message?: unknown };
        port.postMessage({
          id,
          ok: false,
          code: typeof e.code === 'string' ? e.code : 'error',
          name: typeof e.name === 'string' ? e.name : 'Error',
          message: typeof e.message === 'string' ? e.message : String(err),
        } satisfies WorkerReply);
      },
    );
  });
}
