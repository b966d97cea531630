import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, ModelMismatchError, NotFoundError, type Embedder } from '@pixsearch/core';
import { DEFAULT_MAX_PIXELS, loadClipEmbedder, MAX_FILE_BYTES, runSync, type CatalogRoot, type SyncProgress, type SyncSummary } from '@pixsearch/core/engine';
import { PostgresCatalog } from '../catalog/index.js';
import { EmbedQueue, type EmbedQueueOptions } from './embed-queue.js';
import { checkDatabaseUrl, openVectorMirror } from './library.js';

export interface ScanOptions {
  /** The library's database (`postgres://…`). */
  url: string;
  /** Folders to add and scan (default: the library's roots). They must be reachable at the same path by every worker. */
  roots?: string[];
  /** Model folder or hub id (recorded in the library on the first scan; loaded once to learn its id and dimension). */
  model?: string;
  /** Vector backend recorded for front ends: `pgvector` (default; vectors in the same database) or a local one (each front end builds its index from the catalog). */
  backend?: string;
  backendParams?: Record<string, number | string>;
  /** An embedder to identify the model instead of loading `model` (not closed here). */
  embedder?: Embedder;
  /** Queue settings; `expireInSeconds` and `retryLimit` apply to the jobs this scan enqueues. */
  queue?: EmbedQueueOptions;
  ignore?: string[];
  cacheDir?: string;
  signal?: AbortSignal;
  progress?: (p: SyncProgress) => void;
  warn?: (message: string) => void;
}

/**
 * The scanner of a scaled-out library (`pixsearch index --db`): one incremental sync of the roots
 * against the PostgreSQL catalog — the same scan, change detection, moves, duplicate content and
 * skips as on one machine — except that new content is not embedded here: it becomes `queued` rows
 * and one job per image in the queue, for `runWorker` processes on any machine.
 */
export async function scanLibrary(options: ScanOptions): Promise<SyncSummary> {
  const url = checkDatabaseUrl(options.url);
  const catalog = PostgresCatalog.open(url, { applicationName: 'pixsearch-scanner' });
  let queue: EmbedQueue | undefined;
  let mirror: Awaited<ReturnType<typeof openVectorMirror>>;
  try {
    const roots: CatalogRoot[] = [];
    for (const folder of options.roots ?? []) {
      const abs = path.resolve(folder);
      const st = await stat(abs).catch(() => undefined);
      if (!st) throw new NotFoundError(`folder ${abs}`);
      if (!st.isDirectory()) throw new InvalidArgumentError(`${abs} is not a folder`);
      const real = await realpath(abs);
      roots.push({ id: catalog.addRoot(real), path: real });
    }
    const scanRoots = roots.length > 0 ? roots : catalog.roots();
    if (scanRoots.length === 0) throw new InvalidArgumentError('no folder to index: none given and none in the library');
    await recordModel(catalog, options);
    const settings = catalog.settings();
    if (settings.backend === null || options.backend !== undefined) {
      catalog.updateSettings({ backend: options.backend ?? 'pgvector', backendParams: options.backendParams ?? settings.backendParams });
    }
    mirror = await openVectorMirror(catalog, url);
    const q = await EmbedQueue.open(url, { ...options.queue, supervise: false });
    queue = q;
    const noStore = { ensure: async () => undefined, apply: async () => undefined, save: async () => undefined, saveDue: () => false };
    return await runSync(
      {
        catalog,
        store: mirror ?? noStore,
        embedder: () => Promise.reject(new Error('a database scan embeds nothing itself')),
        progress: options.progress ?? (() => undefined),
        warn: options.warn ?? (() => undefined),
        ignore: options.ignore ?? [],
        exclude: new Set(),
        chunkSize: 256,
        maxPixels: DEFAULT_MAX_PIXELS,
        maxFileBytes: MAX_FILE_BYTES,
        saveIntervalMs: Infinity,
        signal: options.signal,
        dispatch: (ids) => q.enqueue(ids),
      },
      scanRoots,
    );
  } finally {
    await queue?.close();
    await mirror?.close().catch(() => undefined);
    catalog.close();
  }
}

/** Records the model (id, source, dimension) on the first scan; refuses another model later. */
async function recordModel(catalog: PostgresCatalog, options: ScanOptions): Promise<void> {
  const settings = catalog.settings();
  if (settings.modelId !== null && options.model === undefined && !options.embedder) return;
  const source = options.model ?? settings.modelSource;
  if (!options.embedder && !source) throw new InvalidArgumentError('the library names no model yet: pass --model <folder or hub id>');
  const e = options.embedder ?? (await loadClipEmbedder(source!, { dataDir: '', ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}) }, settings.modelId));
  try {
    if (settings.modelId === null) catalog.updateSettings({ modelId: e.modelId, modelSource: source ?? e.modelId, dimension: e.dimension });
    else if (settings.modelId !== e.modelId || settings.dimension !== e.dimension) throw new ModelMismatchError(settings.modelId, e.modelId);
  } finally {
    if (!options.embedder) await e.close().catch(() => undefined);
  }
}
