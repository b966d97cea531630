import { stat } from 'node:fs/promises';
import { ImageDecodeError, ModelMismatchError, PixsearchError, type Embedder } from '@pixsearch/core';
import { joinRoot, loadClipEmbedder, QUEUED_REASON, statusFor, type CatalogImage, type CatalogOp, type ImageRowData } from '@pixsearch/core/engine';
import { PostgresCatalog } from '../catalog/index.js';
import { EmbedQueue, type EmbedQueueOptions } from './embed-queue.js';
import { checkDatabaseUrl, openVectorMirror, type VectorMirror } from './library.js';

/** Progress of one worker process. */
export interface WorkerProgress {
  /** Images embedded and committed by this worker. */
  embedded: number;
  /** Images this worker recorded as skipped or failed (with reasons, as on one machine). */
  skipped: number;
  /** Jobs whose image needed nothing (already done, changed or gone since the scan). */
  stale: number;
  /** Images per second since the worker started. */
  rate: number;
  /** Last file handled (root-relative). */
  current?: string;
}

export interface WorkerOptions extends EmbedQueueOptions {
  /** The library's database (`postgres://…`). */
  url: string;
  /** Model folder or hub id; default the one the library was indexed with. Must be the same model. */
  model?: string;
  /** Jobs claimed at once (one embedder batch). Default 8. */
  batchSize?: number;
  cacheDir?: string;
  device?: 'cpu' | 'cuda';
  threads?: number;
  /** An embedder to use instead of loading `model` (tests, benchmarks); not closed by the worker. */
  embedder?: Embedder;
  /** Stops the worker: batches in hand finish, nothing new is claimed. */
  signal?: AbortSignal;
  progress?: (p: WorkerProgress) => void;
  warn?: (message: string) => void;
  /** Called after a batch is embedded and before it is committed (tests stop a worker here). */
  beforeCommit?: (imageIds: number[]) => Promise<void>;
}

/**
 * Runs an embedding worker until `signal` aborts: claims jobs from the library's queue, reads each
 * image from the path the scanner recorded (root folder + relative path: every worker must see the
 * roots at the same paths, e.g. one NFS/SMB mount), embeds a batch, and commits the rows (indexed
 * with their embedding, or skipped/failed with a reason) in one catalog transaction, then mirrors
 * the vectors into the pgvector index. A worker killed at any point loses nothing: its jobs expire
 * and are retried, and every write is an idempotent upsert keyed by image id, so nothing doubles.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerProgress> {
  const url = checkDatabaseUrl(options.url);
  const catalog = PostgresCatalog.open(url, { applicationName: 'pixsearch-worker' });
  let embedder: Embedder | undefined;
  let mirror: VectorMirror | undefined;
  let queue: EmbedQueue | undefined;
  const started = performance.now();
  const p: WorkerProgress = { embedded: 0, skipped: 0, stale: 0, rate: 0 };
  try {
    const settings = catalog.settings();
    const source = options.model ?? settings.modelSource;
    if (!options.embedder && !source) {
      throw new PixsearchError('NO_MODEL', 'the library names no model yet', { hint: 'run `pixsearch index --db <url> <folders>` first (it records the model)' });
    }
    // Tower dtypes follow the library's model id (a library embedded with int8 stays int8).
    embedder = options.embedder ?? (await loadClipEmbedder(source!, { dataDir: '', ...pick(options) }, settings.modelId));
    if (settings.modelId !== null && (settings.modelId !== embedder.modelId || settings.dimension !== embedder.dimension)) {
      throw new ModelMismatchError(settings.modelId, embedder.modelId);
    }
    mirror = await openVectorMirror(catalog, url);
    queue = await EmbedQueue.open(url, options);
    const dim = embedder.dimension;
    const e = embedder;
    const m = mirror;
    const handle = async (jobs: { data: { imageId: number } }[]): Promise<void> => {
      const rows = catalog.getImages(jobs.map((j) => j.data.imageId));
      const roots = new Map(catalog.roots().map((r) => [r.id, r.path]));
      const todo: { image: CatalogImage; abs: string }[] = [];
      // Already embedded: a retry of a job whose worker died after its catalog commit and before
      // mirroring the vector. Upsert the stored vector again (idempotent), so the table never misses it.
      const done = [...rows.values()].filter((image) => image.status === 'indexed').map((image) => image.id);
      if (m && done.length > 0) await remirror(catalog, m, done, dim);
      for (const image of rows.values()) {
        if (image.status !== 'failed' || image.reason !== QUEUED_REASON) continue;
        const root = roots.get(image.rootId);
        if (root === undefined) continue;
        const abs = joinRoot(root, image.relPath);
        const st = await stat(abs).catch(() => undefined);
        // Changed or gone since the scan: the next scan decides (and queues it again when needed).
        if (!st || st.size !== image.size || st.mtimeMs !== image.mtimeMs) continue;
        todo.push({ image, abs });
      }
      p.stale += jobs.length - todo.length;
      if (todo.length === 0) return;
      const result = await e.embedImages(todo.map((t) => t.abs));
      const ops: CatalogOp[] = [];
      const ids: number[] = [];
      const vectors: Float32Array[] = [];
      todo.forEach(({ image }, i) => {
        const base: ImageRowData = { ...image, reason: null, message: null, embedding: null };
        const err = result.errors[i];
        const v = result.vectors.slice(i * dim, (i + 1) * dim);
        if (err || !usable(v)) {
          const reason = err instanceof ImageDecodeError && err.reason ? err.reason : err ? 'decode-failed' : 'embed-error';
          const message = err ? err.message : 'the model produced an invalid embedding (NaN, infinite or zero)';
          ops.push({ op: 'replace', id: image.id, row: { ...base, status: statusFor(reason), reason, message } });
          p.skipped++;
          return;
        }
        const size = result.sizes[i];
        ops.push({ op: 'replace', id: image.id, row: { ...base, status: 'indexed', width: size?.width ?? 0, height: size?.height ?? 0, format: size?.format || image.format, embedding: v } });
        ids.push(image.id);
        vectors.push(v);
      });
      await options.beforeCommit?.(todo.map((t) => t.image.id));
      // One transaction for the batch: a worker killed before this line has written nothing.
      catalog.write(ops);
      if (m && ids.length > 0) {
        const flat = new Float32Array(ids.length * dim);
        vectors.forEach((v, i) => flat.set(v, i * dim));
        await m.apply(ids, flat, []);
      }
      p.embedded += ids.length;
      p.rate = p.embedded / Math.max((performance.now() - started) / 1000, 1e-3);
      p.current = todo[todo.length - 1]!.image.relPath;
      options.progress?.({ ...p });
    };
    queue.work(
      async (jobs) => {
        try {
          await handle(jobs);
        } catch (err) {
          options.warn?.(`a batch of ${jobs.length} jobs failed and will be retried: ${(err as Error).message}`);
          throw err;
        }
      },
      {
        batchSize: options.batchSize ?? 8,
        pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1,
        // The database was unreachable for a moment: the loop goes on, unfinished jobs expire and are retried.
        onError: (err) => options.warn?.(`job queue: ${err.message} (continuing)`),
      },
    );
    await new Promise<void>((resolve) => {
      if (!options.signal || options.signal.aborted) return resolve();
      options.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return p;
  } finally {
    await queue?.close();
    await mirror?.close().catch(() => undefined);
    if (embedder && !options.embedder) await embedder.close().catch(() => undefined);
    catalog.close();
  }
}

/** Upserts the stored embeddings of `ids` into the vector mirror. */
async function remirror(catalog: PostgresCatalog, mirror: VectorMirror, ids: number[], dim: number): Promise<void> {
  const have: number[] = [];
  const flat = new Float32Array(ids.length * dim);
  for (const id of ids) {
    const v = catalog.getEmbedding(id);
    if (!v) continue;
    flat.set(v, have.length * dim);
    have.push(id);
  }
  if (have.length > 0) await mirror.apply(have, flat.subarray(0, have.length * dim), []);
}

function pick(o: WorkerOptions): { cacheDir?: string; device?: 'cpu' | 'cuda'; threads?: number; batchSize?: number } {
  return {
    ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
    ...(o.device !== undefined ? { device: o.device } : {}),
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
  };
}

function usable(v: Float32Array): boolean {
  let sum = 0;
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) return false;
    sum += v[i]! * v[i]!;
  }
  return sum > 0;
}
