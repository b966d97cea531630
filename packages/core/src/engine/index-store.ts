import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { IndexCorruptError, PixsearchError } from '../errors.js';
import { createIndex, loadIndex } from '../index-registry.js';
import type { BackendName, Neighbors, SearchParams, VectorIndex } from '../vector-index.js';
import type { Catalog, CatalogMarker } from './catalog.js';

/** Folder (inside the data directory) holding the saved index. */
export const INDEX_DIR = 'index';
/** Pointer file naming the current index folder and the catalog state it reflects. */
export const POINTER_FILE = 'current.json';

/** Contents of `index/current.json`. */
export interface IndexPointer {
  format: 'pixsearch-index-pointer';
  version: 1;
  /** Sub-folder of `index/` holding the saved index (its own `manifest.json` + data files). */
  dir: string;
  /** The catalog state the index reflects exactly. */
  marker: CatalogMarker;
  backend: BackendName;
  params: Record<string, number | string>;
  modelId: string;
  dimension: number;
  savedAt: string;
}

export interface IndexConfig {
  backend: BackendName;
  params: Record<string, number | string>;
}

interface StoreContext {
  dataDir: string;
  catalog: Catalog;
  readOnly: boolean;
  warn: (message: string) => void;
  onRebuildProgress?: (done: number, total: number) => void;
}

const sameParams = (a: Record<string, unknown>, b: Record<string, unknown>): boolean => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};

/** A reader found the saved index replaced while loading it: load again. */
class PointerMoved extends Error {}

const sameMarker = (a: CatalogMarker, b: CatalogMarker): boolean =>
  a.catalogId === b.catalogId && a.generation === b.generation && a.count === b.count && a.idSum === b.idSum;

/**
 * The vector index as a cache of the catalog's embeddings. It is saved into a fresh folder
 * `index/<backend>-<generation>-<random>/`, then `index/current.json` is replaced atomically to
 * point at it (with the catalog marker it reflects), then older folders are deleted. On open an
 * index whose marker, model, backend or parameters disagree with the catalog — or that fails to
 * load — is rebuilt from the stored embeddings (no model run) and a warning is emitted.
 */
export class IndexStore {
  private index: VectorIndex | undefined;
  /** The catalog's model when the live index was loaded or built. */
  private builtFor: string | null = null;
  /** Changes since the last save. */
  private dirty = false;
  /** The index is known to disagree with the catalog (a failed add, a backend without remove): rebuild before saving. */
  private stale = false;
  private lastSave = Date.now();
  /** How long the last save took (ms): saves during a sync are spaced to cost at most ~10% of it. */
  private lastSaveMs = 0;
  private retired: VectorIndex[] = [];
  private busy = 0;

  private constructor(
    private readonly ctx: StoreContext,
    private config: IndexConfig,
  ) {}

  /** Opens the saved index, or rebuilds it from the catalog. Owns the index: call `close()`. */
  static async open(ctx: StoreContext, config: IndexConfig): Promise<IndexStore> {
    const store = new IndexStore(ctx, config);
    await store.load();
    return store;
  }

  get backend(): BackendName {
    return this.config.backend;
  }

  get params(): Record<string, number | string> {
    return this.index ? { ...this.index.params } : { ...this.config.params };
  }

  /** Live vectors (0 before the model dimension is known). */
  get size(): number {
    return this.index?.size ?? 0;
  }

  get dimension(): number | undefined {
    return this.index?.dimension;
  }

  /** Model id of the embeddings in the live index (null before any). */
  get modelId(): string | null {
    return this.index ? this.builtFor : null;
  }

  private get root(): string {
    return path.join(this.ctx.dataDir, INDEX_DIR);
  }

  private async readPointer(): Promise<IndexPointer | undefined> {
    let raw: string;
    try {
      raw = await readFile(path.join(this.root, POINTER_FILE), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const p = JSON.parse(raw) as IndexPointer;
      if (p.format === 'pixsearch-index-pointer' && p.version === 1 && typeof p.dir === 'string' && !p.dir.includes('/') && p.marker) return p;
    } catch {
      // fall through
    }
    this.ctx.warn(`the index pointer ${path.join(this.root, POINTER_FILE)} is unreadable; rebuilding the index from the catalog`);
    return undefined;
  }

  private async load(): Promise<void> {
    const { catalog } = this.ctx;
    if (!this.ctx.readOnly) return this.loadFrom();
    // Readers take one snapshot of the catalog for the whole load (a writer may be committing
    // meanwhile); if the writer replaced the saved index under us, start over (a few times).
    for (let attempt = 0; ; attempt++) {
      try {
        return await catalog.readSnapshot(() => this.loadFrom(attempt < 3));
      } catch (err) {
        if (!(err instanceof PointerMoved)) throw err;
      }
    }
  }

  private async loadFrom(retryIfMoved = false): Promise<void> {
    const { catalog } = this.ctx;
    const settings = catalog.settings();
    if (settings.dimension === null || settings.modelId === null) return; // nothing embedded yet
    const marker = catalog.marker();
    const ptr = await this.readPointer();
    const configMatches =
      ptr !== undefined &&
      ptr.backend === this.config.backend &&
      sameParams(ptr.params, this.config.params) &&
      ptr.modelId === settings.modelId &&
      ptr.dimension === settings.dimension;
    let why: string;
    if (!ptr) {
      why = 'no saved index';
    } else if (!configMatches) {
      why =
        ptr.modelId !== settings.modelId || ptr.dimension !== settings.dimension
          ? 'the saved index was built for another model'
          : `the saved index uses ${ptr.backend} ${JSON.stringify(ptr.params)}, the library is configured for ${this.config.backend} ${JSON.stringify(this.config.params)}`;
    } else if (ptr.marker.catalogId !== marker.catalogId) {
      why = 'the saved index belongs to another catalog';
    } else if (ptr.marker.generation > marker.generation) {
      if (retryIfMoved) throw new PointerMoved(); // a reader's snapshot predates the writer's latest save
      why = 'the saved index is newer than the catalog (was the catalog restored from a backup?)';
    } else if (ptr.marker.generation === marker.generation && !sameMarker(ptr.marker, marker)) {
      why = `the saved index disagrees with the catalog (${ptr.marker.count} vs ${marker.count} images)`;
    } else {
      try {
        const index = await this.loadDir(ptr);
        this.index = index;
        this.builtFor = settings.modelId;
        if (ptr.marker.generation < marker.generation) {
          const changes = await this.catchUp(index, ptr.marker.generation);
          if (index.size !== marker.count) {
            throw new IndexCorruptError(path.join(this.root, ptr.dir), `after catching up it holds ${index.size} vectors, the catalog ${marker.count}`);
          }
          this.dirty = true;
          // A reader does this on every open while a writer syncs: normal, not worth a warning.
          if (!this.ctx.readOnly) {
            this.ctx.warn(`the saved index was ${changes} changes behind the catalog (an interrupted sync?); caught up from the stored embeddings`);
            await this.save();
          }
        }
        return;
      } catch (err) {
        this.swap(undefined);
        if (retryIfMoved && (await this.readPointer())?.dir !== ptr.dir) throw new PointerMoved();
        why = `the saved index is unusable (${(err as Error).message})`;
      }
    }
    if (marker.count > 0 || ptr) {
      this.ctx.warn(`${why}; rebuilding the index from ${marker.count} stored embeddings${this.ctx.readOnly ? ' in memory (read-only)' : ''}`);
    }
    await this.rebuild(settings.dimension);
  }

  /** Applies the catalog changes made after `generation` to `index`; returns how many ids changed. */
  private async catchUp(index: VectorIndex, generation: number): Promise<number> {
    const removed = this.ctx.catalog.removedSince(generation);
    let changes = 0;
    if (removed.length > 0) {
      if (!index.capabilities.remove) throw new IndexCorruptError(this.root, `the ${index.backend} backend cannot remove the ${removed.length} deleted images`);
      await index.remove(removed);
      changes += removed.length;
    }
    for (const page of this.ctx.catalog.embeddingPages({ sinceGeneration: generation, pageSize: 8192 })) {
      await index.add(page.ids, page.vectors);
      changes += page.ids.length;
    }
    return changes;
  }

  /** Loads the index `ptr` names and checks it against the pointer. */
  private async loadDir(ptr: IndexPointer): Promise<VectorIndex> {
    const index = await loadIndex(path.join(this.root, ptr.dir));
    if (index.size !== ptr.marker.count || index.dimension !== ptr.dimension || index.backend !== ptr.backend) {
      index.close();
      throw new IndexCorruptError(path.join(this.root, ptr.dir), `it holds ${index.size} vectors of dimension ${index.dimension}, expected ${ptr.marker.count} of ${ptr.dimension}`);
    }
    return index;
  }

  /** Creates the (empty) index once the model dimension is known. */
  async ensure(dimension: number): Promise<void> {
    if (this.index && this.index.dimension === dimension) return;
    await this.rebuild(dimension);
  }

  /** Rebuilds the index from every stored embedding, then saves it (writers). */
  async rebuild(dimension?: number): Promise<void> {
    const settings = this.ctx.catalog.settings();
    const dim = dimension ?? settings.dimension;
    if (dim === null || dim === undefined) return;
    const fresh = await createIndex({ backend: this.config.backend, dimension: dim, metric: 'cosine', params: this.config.params });
    try {
      const total = this.ctx.catalog.marker().count;
      let done = 0;
      for (const page of this.ctx.catalog.embeddingPages({ pageSize: 8192 })) {
        await fresh.add(page.ids, page.vectors);
        done += page.ids.length;
        this.ctx.onRebuildProgress?.(done, total);
      }
    } catch (err) {
      fresh.close();
      throw err;
    }
    this.swap(fresh);
    this.builtFor = settings.modelId;
    this.stale = false;
    this.dirty = true;
    if (!this.ctx.readOnly) await this.save();
  }

  /** Switches backend/parameters: rebuilds from stored embeddings (no model run). */
  async reconfigure(config: IndexConfig): Promise<void> {
    this.config = config;
    await this.rebuild();
  }

  private swap(next: VectorIndex | undefined): void {
    const old = this.index;
    this.index = next;
    if (old) {
      if (this.busy > 0) this.retired.push(old);
      else old.close();
    }
  }

  /** Mirrors committed catalog changes: upserts `ids` (`vectors` row-major) and removes `removed`. */
  async apply(ids: readonly number[], vectors: Float32Array, removed: readonly number[]): Promise<void> {
    const index = this.index;
    if (!index || (ids.length === 0 && removed.length === 0)) return;
    this.dirty = true;
    try {
      if (removed.length > 0) {
        if (index.capabilities.remove) await index.remove(removed);
        else this.stale = true;
      }
      if (ids.length > 0) await index.add(ids, vectors);
    } catch (err) {
      this.stale = true;
      throw new PixsearchError('INDEX_UPDATE', `updating the ${index.backend} index failed: ${(err as Error).message}; it will be rebuilt from the catalog`, {
        cause: err,
      });
    }
  }

  /**
   * True when there are unsaved changes and at least max(`intervalMs`, 10 × the last save's
   * duration) passed since the last save — so a long sync of a big library spends at most about a
   * tenth of its time saving, instead of rewriting the whole index again and again.
   */
  saveDue(intervalMs: number): boolean {
    return this.dirty && Date.now() - this.lastSave >= Math.max(intervalMs, 10 * this.lastSaveMs);
  }

  /** Saves the index (if changed) and points `current.json` at it. Writers only. */
  async save(): Promise<void> {
    if (this.ctx.readOnly || !this.index) return;
    if (this.stale) {
      await this.rebuild(); // calls save() again with a consistent index
      return;
    }
    if (!this.dirty) return;
    const settings = this.ctx.catalog.settings();
    const marker = this.ctx.catalog.marker();
    if (marker.count !== this.index.size) {
      this.ctx.warn(`the index holds ${this.index.size} vectors but the catalog ${marker.count}; rebuilding it from the catalog`);
      this.stale = true;
      await this.rebuild();
      return;
    }
    const started = Date.now();
    await mkdir(this.root, { recursive: true });
    const dir = `${this.config.backend}-${marker.generation}-${randomBytes(4).toString('hex')}`;
    await this.index.save(path.join(this.root, dir));
    const pointer: IndexPointer = {
      format: 'pixsearch-index-pointer',
      version: 1,
      dir,
      marker,
      backend: this.config.backend,
      params: { ...this.config.params },
      modelId: settings.modelId!,
      dimension: this.index.dimension,
      savedAt: new Date().toISOString(),
    };
    await writeFileAtomic(path.join(this.root, POINTER_FILE), JSON.stringify(pointer, null, 2) + '\n');
    this.dirty = false;
    this.lastSave = Date.now();
    this.lastSaveMs = this.lastSave - started;
    // Deletion records older than the saved index are no longer needed to catch it up.
    this.ctx.catalog.pruneRemoved(marker.generation);
    for (const entry of await readdir(this.root)) {
      if (entry !== dir && entry !== POINTER_FILE) await rm(path.join(this.root, entry), { recursive: true, force: true });
    }
  }

  /** Forgets the index (model change): a new empty one of `dimension` is created and saved. */
  async reset(dimension: number): Promise<void> {
    await this.rebuild(dimension);
  }

  /** Nearest neighbours of one query; `k` is clamped to the index size. */
  async search(query: Float32Array, k: number, params?: SearchParams): Promise<Neighbors> {
    const index = this.index;
    if (!index || index.size === 0 || k < 1) return { ids: [], scores: [] };
    this.busy++;
    try {
      const [res] = await index.search(query, Math.min(k, index.size), params);
      return res ?? { ids: [], scores: [] };
    } finally {
      this.busy--;
      if (this.busy === 0) for (const old of this.retired.splice(0)) old.close();
    }
  }

  /** Closes the index. Unsaved changes are not saved (call `save()` first). */
  close(): void {
    this.swap(undefined);
    for (const old of this.retired.splice(0)) old.close();
  }
}
