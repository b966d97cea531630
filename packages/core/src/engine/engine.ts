import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Embedder, ImageInput } from '../embedder.js';
import {
  ClosedError,
  diskFullError,
  InvalidArgumentError,
  ModelMismatchError,
  NotFoundError,
  ReadOnlyError,
  SyncInProgressError,
} from '../errors.js';
import type { Catalog, CatalogImage, CatalogRoot } from './catalog.js';
import { defaultModel, loadClipEmbedder } from './embedder-loader.js';
import { getBackend } from '../index-registry.js';
import { IndexStore } from './index-store.js';
import { WriterLock } from './lock.js';
import { isWithin } from './paths.js';
import { MAX_QUERY_TERMS, checkQueryTerms, composeQueryVector, parseQuery, queryImageIds } from './query.js';
import { DEFAULT_DUPLICATE_NEIGHBORS, DEFAULT_DUPLICATE_THRESHOLD, findDuplicates } from './duplicates.js';
import { resolveFilter, type FilterOptions } from './filter.js';
import { localIso, toInfo } from './image-info.js';
import { DEFAULT_K, MAX_K, MAX_OFFSET, knn, normalizeOptions } from './search.js';
import { DEFAULT_MAX_PIXELS } from './sniff.js';
import { SqliteCatalog } from './sqlite-catalog.js';
import { runSync } from './sync.js';
import { TextEmbeddingCache } from './text-embedding-cache.js';
import type {
  BrowseOptions,
  BrowseResponse,
  DuplicateOptions,
  DuplicateReport,
  LibraryFacets,
  EngineEvents,
  EngineOptions,
  EngineStats,
  ImageRecord,
  QueryTerm,
  SearchHit,
  SearchOptions,
  SearchResponse,
  SkippedFile,
  SyncOptions,
  SyncSummary,
} from './types.js';
import { dirKey } from './walk.js';

/** File name of the catalog inside the data directory. */
export const CATALOG_FILE = 'catalog.db';
/** Default backend of a new library. */
export const DEFAULT_BACKEND = 'auto';
/** Default images per embedding batch. */
export const DEFAULT_BATCH_SIZE = 16;
/** Files larger than this are skipped as `too-large` without being read (bytes). */
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** During a sync the index is saved at most this often (the catalog is committed per batch regardless). */
const INDEX_SAVE_INTERVAL_MS = 60_000;

/**
 * A searchable image library in one data directory: a SQLite catalog (the source of truth,
 * holding every image's embedding), a vector index derived from it, and a lazily loaded CLIP
 * embedder. Emits `progress` and `warning` events ({@link EngineEvents}); never prints.
 *
 * One writer per data directory (an OS lock; a second writer gets `DataDirInUseError`), any
 * number of `readOnly` readers. The caller owns the engine and must `close()` it.
 */
export class SearchEngine extends EventEmitter<EngineEvents> {
  /** Absolute data directory. */
  readonly dataDir: string;
  /** True when opened with `readOnly`. */
  readonly readOnly: boolean;

  private readonly options: EngineOptions;
  private readonly catalog: Catalog;
  private readonly lock: WriterLock | undefined;
  private store!: IndexStore;
  private embedderPromise: Promise<Embedder> | undefined;
  private syncing: Promise<SyncSummary> | undefined;
  private readonly closing = new AbortController();
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private openWarnings: string[] | undefined = [];
  private dataDirKey: string | undefined;
  /** Recent query-text embeddings (search as you type sends every prefix). */
  private readonly textEmbeddings = new TextEmbeddingCache();
  /** Readers with `followIntervalMs`: the next refresh; the last refresh error (said once). */
  private followTimer: NodeJS.Timeout | undefined;
  private followError: string | undefined;

  private constructor(dataDir: string, options: EngineOptions, catalog: Catalog, lock: WriterLock | undefined) {
    super();
    this.dataDir = dataDir;
    this.options = options;
    this.readOnly = options.readOnly ?? false;
    this.catalog = catalog;
    this.lock = lock;
  }

  /**
   * Opens (creating when writable) the library in `options.dataDir`. Adds `options.roots` to the
   * library's folders, loads the saved index or rebuilds it from the stored embeddings, and checks
   * the model when one is injected or a different one is named. Warnings raised while opening are
   * emitted on the next turn of the event loop, so attach listeners right after `await open()`.
   *
   * Throws `DataDirInUseError` (another writer), `ModelMismatchError` (the library was embedded
   * with another model; pass `reembed: true` to re-embed), `NotFoundError` (read-only and no
   * library, or a root folder that does not exist), `InvalidArgumentError`.
   */
  static async open(options: EngineOptions): Promise<SearchEngine> {
    if (!options || typeof options.dataDir !== 'string' || options.dataDir === '') throw new InvalidArgumentError('dataDir is required');
    const dataDir = path.resolve(options.dataDir);
    const readOnly = options.readOnly ?? false;
    if (options.backend !== undefined && (typeof options.backend !== 'string' || options.backend === '')) {
      throw new InvalidArgumentError(`backend must be a registered backend name, got ${JSON.stringify(options.backend)}`);
    }
    // An unknown backend fails before anything is created on disk.
    if (options.backend !== undefined) await getBackend(options.backend);
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 1024)) {
      throw new InvalidArgumentError(`batchSize must be an integer in 1..1024, got ${options.batchSize}`);
    }
    if (readOnly && options.reembed) throw new ReadOnlyError('re-embedding');
    const catalogFile = path.join(dataDir, CATALOG_FILE);
    const given = options.catalog;
    let lock: WriterLock | undefined;
    if (readOnly) {
      if (!given && !existsSync(catalogFile)) throw new NotFoundError(`pixsearch library in ${dataDir}`);
    } else {
      await mkdir(dataDir, { recursive: true });
      lock = WriterLock.acquire(dataDir);
    }
    let catalog: Catalog | undefined = given;
    let engine: SearchEngine | undefined;
    try {
      catalog ??= SqliteCatalog.open(catalogFile, { readOnly });
      engine = new SearchEngine(dataDir, options, catalog, lock);
      await engine.init();
      const e = engine;
      setImmediate(() => e.flushOpenWarnings());
      return engine;
    } catch (err) {
      if (engine) await engine.close().catch(() => undefined);
      else {
        catalog?.close();
        lock?.release();
      }
      throw diskFullError(err, dataDir) ?? err;
    }
  }

  private async init(): Promise<void> {
    const settings = this.catalog.settings();
    // An unknown name (here or in the catalog) fails in IndexStore.open with the registered names.
    const backend = this.options.backend ?? settings.backend ?? DEFAULT_BACKEND;
    const params = this.options.backendParams ?? (this.options.backend === undefined || this.options.backend === settings.backend ? settings.backendParams : {});
    if (!this.readOnly) {
      this.dataDirKey = await dirKey(this.dataDir);
      if (this.options.roots && this.options.roots.length > 0) await this.addRootsNow(this.options.roots);
    }
    // Check the model before touching the index when it may differ: fails fast, and a re-embed resets the catalog first.
    const modelMayDiffer =
      this.options.embedder !== undefined ||
      (this.options.model !== undefined && settings.modelId !== null && modelSource(this.options.model) !== settings.modelSource) ||
      (settings.modelId !== null && (this.options.visionDtype !== undefined || this.options.textDtype !== undefined));
    if (modelMayDiffer) await this.embedder();
    this.store = await IndexStore.open(
      {
        dataDir: this.dataDir,
        catalog: this.catalog,
        readOnly: this.readOnly,
        warn: (m) => this.warn(m),
        onRebuildProgress: (done, total) => this.emit('progress', { phase: 'index', done, total, rate: 0, etaSeconds: undefined }),
      },
      {
        backend,
        params,
        ...(this.options.connectionEnv !== undefined ? { connectionEnv: this.options.connectionEnv } : {}),
        ...(this.options.connection !== undefined ? { connection: this.options.connection } : {}),
      },
    );
    if (!this.readOnly) this.catalog.updateSettings({ backend, backendParams: params });
    const every = this.options.followIntervalMs ?? 0;
    if (this.readOnly && every > 0) this.follow(every);
  }

  /** Readers: refreshes every `ms` (after the previous refresh ends, so they never pile up). */
  private follow(ms: number): void {
    this.followTimer = setTimeout(() => {
      this.refresh()
        .then(
          () => (this.followError = undefined),
          (err: unknown) => {
            const msg = (err as Error).message;
            if (!this.closed && msg !== this.followError) this.warn(`following the library failed (retrying every ${ms} ms): ${msg}`);
            this.followError = msg;
          },
        )
        .finally(() => {
          if (!this.closed) this.follow(ms);
        });
    }, ms);
    this.followTimer.unref();
  }

  /**
   * Readers: catches up with what writers (a sync in another process, embedding workers of a
   * library in PostgreSQL) committed since open or the last refresh, so that searches see it.
   * One generation lookup when nothing changed. Emits `changed` and resolves to true when the
   * index changed; resolves to false for writers (their index follows their own writes).
   */
  refresh(): Promise<boolean> {
    return this.track(async () => {
      const changed = await this.store.refresh();
      if (changed) this.emit('changed', { generation: this.catalog.generation(), indexSize: this.store.size });
      return changed;
    });
  }

  private warn(message: string): void {
    if (this.openWarnings) this.openWarnings.push(message);
    else this.emit('warning', message);
  }

  private flushOpenWarnings(): void {
    const pending = this.openWarnings ?? [];
    this.openWarnings = undefined;
    if (this.closed) return;
    for (const m of pending) this.emit('warning', m);
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('search engine');
  }

  /** True while `sync()` runs. */
  get isSyncing(): boolean {
    return this.syncing !== undefined;
  }

  // ---- model --------------------------------------------------------------------------------------

  /** The checked embedder, loaded on first need (never for `similar()` or an empty library). */
  private embedder(): Promise<Embedder> {
    if (!this.embedderPromise) {
      this.embedderPromise = this.loadEmbedder();
      this.embedderPromise.catch(() => {
        this.embedderPromise = undefined;
      });
    }
    return this.embedderPromise;
  }

  private async loadEmbedder(): Promise<Embedder> {
    const settings = this.catalog.settings();
    const injected = this.options.embedder;
    const source = modelSource(this.options.model ?? settings.modelSource ?? (injected ? injected.modelId : await defaultModel()));
    const e = injected ?? (await loadClipEmbedder(source, this.options, settings.modelId));
    try {
      if (!Number.isInteger(e.dimension) || e.dimension < 1) throw new InvalidArgumentError(`the embedder reports dimension ${e.dimension}`);
      if (settings.modelId === null) {
        if (!this.readOnly) this.catalog.updateSettings({ modelId: e.modelId, modelSource: source, dimension: e.dimension });
      } else if (settings.modelId !== e.modelId || settings.dimension !== e.dimension) {
        if (!this.options.reembed || this.readOnly) throw new ModelMismatchError(settings.modelId, this.options.model ?? e.modelId);
        const n = this.catalog.counts().indexed;
        this.catalog.resetEmbeddings({ modelId: e.modelId, modelSource: source, dimension: e.dimension });
        // Before init() opened the store, it will build from the reset catalog by itself.
        if (this.store) await this.store.rebuild(e.dimension);
        this.warn(`the model changed from "${settings.modelId}" to "${e.modelId}": ${n} images will be re-embedded by the next sync`);
      } else if (!this.readOnly && this.options.model !== undefined && source !== settings.modelSource) {
        this.catalog.updateSettings({ modelSource: source });
      }
      return e;
    } catch (err) {
      if (!injected) await e.close().catch(() => undefined);
      throw err;
    }
  }

  // ---- roots ---------------------------------------------------------------------------------------

  /**
   * Adds folders to the library (writers). A folder inside an existing root resolves to that
   * root; a folder containing existing roots absorbs them (their images keep ids and embeddings).
   * Returns the roots covering `folders`. Throws `NotFoundError` / `InvalidArgumentError` for a
   * missing folder or a file.
   */
  async addRoots(folders: readonly string[]): Promise<CatalogRoot[]> {
    this.assertOpen();
    if (this.readOnly) throw new ReadOnlyError('adding folders');
    if (this.syncing) throw new SyncInProgressError();
    return this.addRootsNow(folders);
  }

  private async addRootsNow(folders: readonly string[]): Promise<CatalogRoot[]> {
    const out = new Map<number, CatalogRoot>();
    for (const folder of folders) {
      if (typeof folder !== 'string' || folder === '') throw new InvalidArgumentError('a root folder must be a non-empty path');
      const abs = path.resolve(folder);
      let st;
      try {
        st = await stat(abs);
      } catch {
        throw new NotFoundError(`folder ${abs}`);
      }
      if (!st.isDirectory()) throw new InvalidArgumentError(`${abs} is not a folder`);
      const real = await realpath(abs);
      const existing = await Promise.all(
        this.catalog.roots().map(async (r) => ({ root: r, real: await realpath(r.path).catch(() => path.resolve(r.path)) })),
      );
      const container = existing.find((e) => isWithin(e.real, real));
      if (container) {
        out.set(container.root.id, container.root);
        continue;
      }
      const id = this.catalog.addRoot(abs);
      for (const inner of existing) {
        if (!isWithin(real, inner.real)) continue;
        const prefix = path.relative(real, inner.real).split(path.sep).join('/') + '/';
        const replaced = this.catalog.mergeRoot(inner.root.id, id, prefix);
        if (this.store) await this.store.apply([], new Float32Array(0), replaced);
        out.delete(inner.root.id);
        this.warn(`folder ${inner.root.path} is inside ${abs}; its images now belong to ${abs}`);
      }
      out.set(id, { id, path: abs });
    }
    return [...out.values()];
  }

  /** Removes a root folder and all its images from the library (writers, not during a sync). Resolves to the number of indexed images removed. */
  async removeRoot(folder: string): Promise<number> {
    this.assertOpen();
    if (this.readOnly) throw new ReadOnlyError('removing folders');
    if (this.syncing) throw new SyncInProgressError();
    const abs = path.resolve(folder);
    const root = this.catalog.roots().find((r) => r.path === abs);
    if (!root) throw new NotFoundError(`root folder ${abs}`);
    const removed = this.catalog.removeRoot(root.id);
    await this.store.apply([], new Float32Array(0), removed);
    await this.store.save();
    return removed.length;
  }

  // ---- sync ----------------------------------------------------------------------------------------

  /**
   * Brings the catalog and index in line with the root folders (all of them, or `roots` — which
   * are added when new). Only new and changed content is embedded; every batch is committed
   * before the next starts, so an abort (`signal`), a crash or `kill -9` loses at most the batch
   * in flight. Resolves to the summary (with `aborted: true` after an abort). Only one sync runs
   * at a time: a concurrent call rejects with `SyncInProgressError`.
   */
  sync(options: SyncOptions = {}): Promise<SyncSummary> {
    if (this.closed) return Promise.reject(new ClosedError('search engine'));
    if (this.readOnly) return Promise.reject(new ReadOnlyError('sync'));
    if (this.syncing) return Promise.reject(new SyncInProgressError());
    const run = this.runSync(options);
    this.syncing = run;
    const clear = (): void => {
      if (this.syncing === run) this.syncing = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  private async runSync(options: SyncOptions): Promise<SyncSummary> {
    const signal = options.signal ? AbortSignal.any([options.signal, this.closing.signal]) : this.closing.signal;
    const roots = options.roots !== undefined ? await this.addRootsNow(options.roots) : this.catalog.roots();
    const batchSize = this.options.batchSize ?? DEFAULT_BATCH_SIZE;
    return runSync(
      {
        // (a full disk — the catalog's SQLITE_FULL, an index save's ENOSPC — becomes DiskFullError below)
        catalog: this.catalog,
        store: this.store,
        embedder: () => this.embedder(),
        progress: (p) => this.emit('progress', p),
        warn: (m) => this.warn(m),
        ignore: this.options.ignore ?? [],
        exclude: new Set(this.dataDirKey ? [this.dataDirKey] : []),
        chunkSize: batchSize * 4,
        maxPixels: this.options.maxImagePixels ?? DEFAULT_MAX_PIXELS,
        maxFileBytes: MAX_FILE_BYTES,
        saveIntervalMs: INDEX_SAVE_INTERVAL_MS,
        signal,
      },
      roots,
    ).catch((err: unknown) => {
      throw diskFullError(err, this.dataDir) ?? err;
    });
  }

  // ---- search --------------------------------------------------------------------------------------

  /**
   * Searches by text or combined terms. A string is parsed with {@link parseQuery} (plain text is
   * one term; `"beach" + 2:"sunset" - "people"` combines; `image:"…"` paths are not accepted in a
   * string — pass `{ image }` terms instead). Term embeddings are L2-normalised, summed with their
   * weights and renormalised. Images named by `imageId` terms are left out of the results.
   */
  search(query: string | QueryTerm[], options: SearchOptions = {}): Promise<SearchResponse> {
    return this.track(async () => this.runSearch(typeof query === 'string' ? parseQuery(query) : checkQueryTerms(query), options));
  }

  /** Runs a search over validated terms. */
  private searchTerms(terms: QueryTerm[], options: SearchOptions): Promise<SearchResponse> {
    return this.track(async () => this.runSearch(terms, options));
  }

  private async runSearch(terms: QueryTerm[], options: SearchOptions): Promise<SearchResponse> {
    {
      const t0 = performance.now();
      const o = normalizeOptions(options);
      const params = this.store.checkSearchParams(options.params);
      if (this.store.size === 0) {
        return { results: [], total: 0, timings: { embed: 0, search: 0, catalog: 0, total: performance.now() - t0 } };
      }
      // A long-lived reader whose library was re-embedded by a writer meanwhile must not mix models.
      const settings = this.catalog.settings();
      if (settings.modelId !== this.store.modelId || settings.dimension !== this.store.dimension) {
        throw new ModelMismatchError(settings.modelId ?? 'none', this.store.modelId ?? 'none');
      }
      const dimension = this.store.dimension;
      if (dimension === undefined) throw new InvalidArgumentError('the library has no index yet');
      const vector = await composeQueryVector(terms, {
        dimension,
        embedder: () => this.embedder(),
        embedTexts: (embedder, texts) => this.textEmbeddings.embed(embedder, texts, options.signal),
        storedEmbedding: (id) => this.catalog.getEmbedding(id),
      });
      const t1 = performance.now();
      const exclude = queryImageIds(terms);
      const rootPaths = new Map(this.catalog.roots().map((r) => [r.id, r.path]));
      const res = await knn(this.catalog, this.store, rootPaths, vector, { ...o, exclude, params });
      const results: SearchHit[] = res.hits.map(({ image, score }) => ({ ...toInfo(image, rootPaths.get(image.rootId) ?? ''), score }));
      const end = performance.now();
      return {
        results,
        ...(res.total !== undefined ? { total: res.total } : {}),
        timings: { embed: t1 - t0, search: res.searchMs, catalog: res.catalogMs, total: end - t0 },
      };
    }
  }

  /** Searches by an example image: a file path or encoded bytes (an upload). Throws `ImageDecodeError` for an unusable image. */
  searchByImage(input: ImageInput, options: SearchOptions = {}): Promise<SearchResponse> {
    return this.search([{ image: input }], options);
  }

  /** Images similar to catalog image `imageId` (excluding itself), from its stored embedding: no model run. Throws `NotFoundError`. */
  similar(imageId: number, options: SearchOptions = {}): Promise<SearchResponse> {
    if (!Number.isSafeInteger(imageId) || imageId < 0) return Promise.reject(new InvalidArgumentError(`image id must be a non-negative integer, got ${imageId}`));
    if (!this.closed && !this.catalog.getEmbedding(imageId)) return Promise.reject(new NotFoundError(`indexed image ${imageId}`));
    return this.search([{ imageId }], options);
  }

  /**
   * "More like these": images similar to the mean of the stored embeddings of `ids` (1..100
   * catalogued images, left out of the results). No model run. Throws `NotFoundError` for an id
   * that is not an indexed image.
   */
  moreLike(ids: readonly number[], options: SearchOptions = {}): Promise<SearchResponse> {
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_QUERY_TERMS * 4) {
      return Promise.reject(new InvalidArgumentError(`moreLike needs 1..${MAX_QUERY_TERMS * 4} image ids`));
    }
    const unique = [...new Set(ids)];
    for (const id of unique) {
      if (!Number.isSafeInteger(id) || id < 0) return Promise.reject(new InvalidArgumentError(`image id must be a non-negative integer, got ${id}`));
      if (!this.closed && !this.catalog.getEmbedding(id)) return Promise.reject(new NotFoundError(`indexed image ${id}`));
    }
    return this.searchTerms(unique.map((imageId) => ({ imageId })), options);
  }

  /**
   * Browse without a query: the indexed images matching the filters, by date taken (newest first
   * by default: a timeline), with the exact total. Synchronous work on the catalog (indexed SQL).
   */
  async browse(options: BrowseOptions = {}): Promise<BrowseResponse> {
    this.assertOpen();
    const t0 = performance.now();
    const k = options.k ?? DEFAULT_K;
    const offset = options.offset ?? 0;
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new InvalidArgumentError(`k must be an integer in 1..${MAX_K}, got ${k}`);
    if (!Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) throw new InvalidArgumentError(`offset must be an integer in 0..${MAX_OFFSET}, got ${offset}`);
    const sort = options.sort ?? 'date-desc';
    if (sort !== 'date-desc' && sort !== 'date-asc') throw new InvalidArgumentError(`browse sorts by date-desc or date-asc, got ${String(sort)}`);
    const filter = resolveFilter(options);
    const rootPaths = new Map(this.catalog.roots().map((r) => [r.id, r.path]));
    const { rows, total } = await this.catalog.readSnapshot(async () => ({
      rows: this.catalog.browse(filter, sort === 'date-desc' ? 'desc' : 'asc', offset, k),
      total: this.catalog.countMatching(filter),
    }));
    const took = performance.now() - t0;
    return { results: rows.map((r) => toInfo(r, rootPaths.get(r.rootId) ?? '')), total, timings: { catalog: took, total: took } };
  }

  /** Cameras, formats, folders, date range and months present among the images matching `filter`, for pickers. */
  async facets(filter: FilterOptions = {}): Promise<LibraryFacets> {
    this.assertOpen();
    const f = this.catalog.facets(resolveFilter(filter));
    return {
      total: f.total,
      cameras: f.cameras,
      formats: f.formats,
      folders: f.folders,
      dateRange: f.dateRange ? { from: localIso(f.dateRange.min).slice(0, 10), to: localIso(f.dateRange.max).slice(0, 10) } : null,
      months: f.months,
      located: f.located,
    };
  }

  /**
   * Groups of exact copies (same content hash) and near-duplicates (cosine ≥ `threshold` between
   * stored embeddings, through the index). Reads only: nothing is deleted or moved, nothing re-embedded.
   */
  duplicates(options: DuplicateOptions = {}): Promise<DuplicateReport> {
    return this.track(async () => {
      const rootPaths = new Map(this.catalog.roots().map((r) => [r.id, r.path]));
      return findDuplicates(this.catalog, this.store, rootPaths, {
        threshold: options.threshold ?? DEFAULT_DUPLICATE_THRESHOLD,
        neighbors: options.neighbors ?? DEFAULT_DUPLICATE_NEIGHBORS,
        filter: options.filter ? resolveFilter(options.filter) : undefined,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    });
  }

  private track<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ClosedError('search engine'));
    const p = fn();
    this.inflight.add(p);
    const done = (): void => {
      this.inflight.delete(p);
    };
    p.then(done, done);
    return p;
  }

  // ---- catalog views -------------------------------------------------------------------------------

  /** The catalog row of image `id`, or undefined. Synchronous (one indexed SQLite lookup). */
  getImage(id: number): ImageRecord | undefined {
    this.assertOpen();
    if (!Number.isSafeInteger(id) || id < 0) return undefined;
    const image = this.catalog.getImage(id);
    if (!image) return undefined;
    const root = this.catalog.roots().find((r) => r.id === image.rootId)?.path ?? '';
    return toRecord(image, root);
  }

  /** Library statistics. Async because it sums the data directory's size on disk. */
  async stats(): Promise<EngineStats> {
    this.assertOpen();
    const settings = this.catalog.settings();
    const roots = this.catalog.roots();
    const rootPaths = new Map(roots.map((r) => [r.id, r.path]));
    const skipped: SkippedFile[] = this.catalog.problems().map((p) => ({
      root: rootPaths.get(p.rootId) ?? '',
      path: p.relPath,
      reason: p.reason ?? p.status,
      message: p.message ?? '',
    }));
    const counts = this.catalog.counts();
    return {
      dataDir: this.dataDir,
      roots: roots.map((r) => r.path),
      model: settings.modelId ?? this.options.model ?? this.options.embedder?.modelId ?? settings.modelSource ?? '',
      dimension: settings.dimension ?? 0,
      backend: this.store.backend,
      backendParams: this.store.params,
      images: { indexed: counts.indexed, skipped: counts.skipped, failed: counts.failed },
      indexSize: this.store.size,
      lastSync: settings.lastSync,
      skipped,
      dataDirBytes: await dirBytes(this.dataDir),
    };
  }

  // ---- lifecycle -----------------------------------------------------------------------------------

  /**
   * Stops a running sync (its committed work is kept and the index saved), waits for searches in
   * flight, then releases the index, catalog, writer lock and the embedder the engine loaded (an
   * injected embedder stays open). Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.followTimer);
    this.closing.abort();
    if (this.syncing) await this.syncing.catch(() => undefined);
    await Promise.allSettled([...this.inflight]);
    await this.store?.close();
    this.catalog.close();
    this.lock?.release();
    if (this.embedderPromise && !this.options.embedder) {
      const e = await this.embedderPromise.catch(() => undefined);
      await e?.close();
    }
    this.removeAllListeners();
  }
}

/** How a model is remembered: a local folder as an absolute path (it may be reopened from another cwd), else the hub id. */
function modelSource(model: string): string {
  return existsSync(model) ? path.resolve(model) : model;
}

function toRecord(image: CatalogImage, root: string): ImageRecord {
  return {
    ...toInfo(image, root),
    size: image.size,
    mtimeMs: image.mtimeMs,
    hash: image.hash ?? '',
    status: image.status,
    reason: image.reason,
  };
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += await dirBytes(p);
    else if (e.isFile()) total += await stat(p).then((s) => s.size, () => 0);
  }
  return total;
}
