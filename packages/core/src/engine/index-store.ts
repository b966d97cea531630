import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { DiskFullError, diskFullError, IndexCorruptError, PixsearchError } from '../errors.js';
import { getBackend, loadIndex, resolveConnection } from '../index-registry.js';
import { checkNoSecrets, checkSearchParams } from '../params.js';
import type { BackendFactory, Neighbors, Persistence, SearchParams, VectorIndex } from '../vector-index.js';
import type { Catalog, CatalogMarker, RemoteIndexRecord } from './catalog.js';

/** Folder (inside the data directory) holding the saved index. */
export const INDEX_DIR = 'index';
/** Pointer file naming the current index folder and the catalog state it reflects. */
export const POINTER_FILE = 'current.json';

/**
 * What names the live index: the contents of `index/current.json` for `files` backends; for
 * `remote` backends the same fields come from the catalog's `remoteIndex` record (see
 * {@link RemoteIndexRecord}), so every process opening the catalog finds the same index.
 */
export interface IndexPointer {
  format: 'pixsearch-index-pointer';
  version: 1;
  /**
   * `files`: the sub-folder of `index/` holding the saved index (its own `manifest.json` + data
   * files). `remote`: the index's name in the server.
   */
  dir: string;
  /** Absent in pointers written before remote backends existed: `files`. */
  persistence?: Persistence;
  /** The catalog state the index reflects exactly (a remote index may be ahead: writes go straight to it). */
  marker: CatalogMarker;
  backend: string;
  params: Record<string, number | string>;
  modelId: string;
  dimension: number;
  savedAt: string;
}

/** Which backend the library uses. Saved in the catalog and the pointer: never secrets. */
export interface IndexConfig {
  backend: string;
  params: Record<string, number | string>;
  /**
   * Remote backends: the environment variable holding the connection string (default: the
   * backend's `connectionEnv`). Only this name is ever saved, never its value.
   */
  connectionEnv?: string;
  /**
   * Remote backends: the connection string itself (e.g. the `--db` URL of a library in
   * PostgreSQL, whose vector table lives in the same database). Held in memory, never saved; wins
   * over `connectionEnv`.
   */
  connection?: string;
}

interface StoreContext {
  dataDir: string;
  catalog: Catalog;
  readOnly: boolean;
  warn: (message: string) => void;
  onRebuildProgress?: (done: number, total: number) => void;
}

/** How long after a catalog change a reader keeps re-reading a remote index's size (see `follow`). */
const REMOTE_RECHECK_MS = 5_000;

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
 * The vector index as a cache of the catalog's embeddings.
 *
 * `files` backends: the index is saved into a fresh folder `index/<backend>-<generation>-<random>/`,
 * then `index/current.json` is replaced atomically to point at it (with the catalog marker it
 * reflects), then older folders are deleted.
 *
 * `remote` backends: the index lives in the server under a name (`px_<catalog>_<random>`); writes
 * go straight to it, a save flushes it and points `current.json` at the name. A rebuild fills a
 * fresh name, switches the pointer, then drops the old index — the same switch as for folders.
 * Connection strings come from the environment and are never written.
 *
 * On open an index whose marker, model, backend or parameters disagree with the catalog — or that
 * fails to load — is rebuilt from the stored embeddings (no model run) and a warning is emitted.
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
  /** Remote: the name of the live index, and names to drop once the pointer no longer names them. */
  private remoteName: string | undefined;
  private remoteToDrop: string[] = [];
  /** Readers: the catalog generation the live index was last brought up to (see `refresh()`). */
  private seenGeneration: number | undefined;
  private refreshing: Promise<boolean> | undefined;
  /** Readers of a remote index: until when (ms since epoch) unchanged generations still re-read its size. */
  private remoteRecheckUntil = 0;
  private warnedNoRemote = false;

  private constructor(
    private readonly ctx: StoreContext,
    private readonly config: IndexConfig,
    private readonly factory: BackendFactory,
  ) {}

  /** Opens the saved index, or rebuilds it from the catalog. Owns the index: call `close()`. */
  static async open(ctx: StoreContext, config: IndexConfig): Promise<IndexStore> {
    const factory = await getBackend(config.backend);
    checkNoSecrets(factory.name, config.params);
    if (factory.persistence === 'remote' && config.connection === undefined) resolveConnection(factory, config.connectionEnv); // fail now when unset
    const store = new IndexStore(ctx, config, factory);
    await store.load();
    return store;
  }

  get backend(): string {
    return this.config.backend;
  }

  /** How the backend keeps its data. */
  get persistence(): Persistence {
    return this.factory.persistence;
  }

  /**
   * Checks per-search parameters against the backend's declared ones (before any work is done);
   * throws `InvalidArgumentError`. Returns them normalised (numeric strings converted).
   */
  checkSearchParams(params: SearchParams | undefined): SearchParams {
    const caps = this.index?.capabilities ?? this.factory.capabilities;
    return checkSearchParams(this.factory.name, caps.searchParams, params);
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

  private async readPointer(quiet = false): Promise<IndexPointer | undefined> {
    if (this.factory.persistence === 'remote') {
      const rec = this.ctx.catalog.settings().remoteIndex;
      if (rec) return fromRecord(rec);
      // Libraries saved before the record moved into the catalog: the pointer file (the next save moves it).
    }
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
    if (!quiet) this.ctx.warn(`the index pointer ${path.join(this.root, POINTER_FILE)} is unreadable; rebuilding the index from the catalog`);
    return undefined;
  }

  private async load(): Promise<void> {
    const { catalog } = this.ctx;
    if (!this.ctx.readOnly) {
      await this.removeLeftovers();
      return this.loadFrom();
    }
    // A reader of a remote index only opens the one the catalog names (no snapshot: the snapshot's
    // transaction would hold a catalog connection while the index's own connections work — which
    // a single-backend server such as PGlite cannot interleave).
    if (this.factory.persistence === 'remote') return this.loadFrom();
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

  /**
   * Writers only (one at a time, under the data directory's lock): removes what an interrupted
   * save left in `index/` — folders and temporary files the pointer does not name — so a crash or
   * a full disk does not keep their space until the next successful save.
   */
  private async removeLeftovers(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch {
      return; // no index folder yet
    }
    const ptr = await this.readPointer(true);
    if (!ptr && entries.includes(POINTER_FILE)) return; // unreadable pointer: keep everything for the rebuild to replace
    for (const entry of entries) {
      if (entry === POINTER_FILE || (ptr && (ptr.persistence ?? 'files') === 'files' && entry === ptr.dir)) continue;
      await rm(path.join(this.root, entry), { recursive: true, force: true });
    }
  }

  private async loadFrom(retryIfMoved = false): Promise<void> {
    const { catalog } = this.ctx;
    const settings = catalog.settings();
    if (settings.dimension === null || settings.modelId === null) return; // nothing embedded yet
    const marker = catalog.marker();
    this.seenGeneration = marker.generation;
    const ptr = await this.readPointer();
    const configMatches =
      ptr !== undefined &&
      ptr.backend === this.config.backend &&
      (ptr.persistence ?? 'files') === this.factory.persistence &&
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
        const index = await this.loadDir(ptr, settings.dimension);
        this.index = index;
        this.builtFor = settings.modelId;
        if (index.persistence === 'remote' && this.ctx.readOnly) {
          // A reader never writes to a shared server: it uses the index as the writers left it.
          if (index.size !== marker.count) this.ctx.warn(`the ${index.backend} index "${index.name}" holds ${index.size} vectors, the catalog ${marker.count} (a writer is syncing?)`);
          return;
        }
        if (ptr.marker.generation < marker.generation || (index.persistence === 'remote' && index.size !== marker.count)) {
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
        await this.swap(undefined);
        if (retryIfMoved && (await this.readPointer())?.dir !== ptr.dir) throw new PointerMoved();
        why = `the saved index is unusable (${(err as Error).message})`;
      }
    }
    if (this.factory.persistence === 'remote' && this.ctx.readOnly) {
      // A reader never writes to a shared server, and a remote index cannot live in memory. Said
      // once: a following reader retries at every change and picks the index up once a writer names it.
      if (!this.warnedNoRemote) this.ctx.warn(`${why}; searches return nothing until a writer records the ${this.factory.name} index in the catalog`);
      this.warnedNoRemote = true;
      return;
    }
    if (marker.count > 0 || ptr) {
      this.ctx.warn(`${why}; rebuilding the index from ${marker.count} stored embeddings${this.ctx.readOnly ? ' in memory (read-only)' : ''}`);
    }
    // The remote index the pointer named is replaced: drop it once the new pointer is saved.
    if (ptr && ptr.persistence === 'remote' && ptr.backend === this.factory.name) this.remoteToDrop.push(ptr.dir);
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

  /** Loads (files) or opens (remote) the index `ptr` names and checks it against the pointer. */
  private async loadDir(ptr: IndexPointer, dimension: number): Promise<VectorIndex> {
    if (this.factory.persistence === 'remote') {
      const index = await this.openRemote(ptr.dir, dimension);
      this.remoteName = ptr.dir;
      return index;
    }
    const index = await loadIndex(path.join(this.root, ptr.dir));
    if (index.size !== ptr.marker.count || index.dimension !== ptr.dimension || index.backend !== ptr.backend) {
      await index.close();
      throw new IndexCorruptError(path.join(this.root, ptr.dir), `it holds ${index.size} vectors of dimension ${index.dimension}, expected ${ptr.marker.count} of ${ptr.dimension}`);
    }
    return index;
  }

  private openRemote(name: string, dimension: number): Promise<VectorIndex> {
    const factory = this.factory;
    if (factory.persistence !== 'remote') throw new Error('not a remote backend');
    return factory.open({ name, dimension, metric: 'cosine', params: { ...this.config.params }, connection: this.connection() });
  }

  /** The remote backend's connection string: given in memory, or from the environment. */
  private connection(): string {
    const factory = this.factory;
    if (factory.persistence !== 'remote') throw new Error('not a remote backend');
    return this.config.connection ?? resolveConnection(factory, this.config.connectionEnv);
  }

  private async dropRemote(names: string[]): Promise<void> {
    const factory = this.factory;
    if (factory.persistence !== 'remote') return;
    for (const name of names) {
      try {
        await factory.drop({ name, connection: this.connection() });
      } catch (err) {
        this.ctx.warn(`could not drop the old ${factory.name} index "${name}": ${(err as Error).message}`);
      }
    }
  }

  /** A fresh, empty index (files: in memory; remote: under a new name in the server). */
  private async freshIndex(dimension: number): Promise<VectorIndex> {
    const factory = this.factory;
    if (factory.persistence === 'files') return factory.create({ dimension, metric: 'cosine', params: { ...this.config.params } });
    const catalogPart = this.ctx.catalog.marker().catalogId.replace(/[^0-9a-z]/gi, '').slice(0, 12).toLowerCase();
    const name = `px_${catalogPart}_${randomBytes(4).toString('hex')}`;
    const index = await this.openRemote(name, dimension);
    if (this.remoteName) this.remoteToDrop.push(this.remoteName);
    this.remoteName = name;
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
    const fresh = await this.freshIndex(dim);
    try {
      const total = this.ctx.catalog.marker().count;
      let done = 0;
      for (const page of this.ctx.catalog.embeddingPages({ pageSize: 8192 })) {
        await fresh.add(page.ids, page.vectors);
        done += page.ids.length;
        this.ctx.onRebuildProgress?.(done, total);
      }
    } catch (err) {
      await fresh.close();
      throw err;
    }
    await this.swap(fresh);
    this.builtFor = settings.modelId;
    this.stale = false;
    this.dirty = true;
    if (!this.ctx.readOnly) await this.save();
  }

  private async swap(next: VectorIndex | undefined): Promise<void> {
    const old = this.index;
    this.index = next;
    if (old) {
      if (this.busy > 0) this.retired.push(old);
      else await old.close();
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
    const index = this.index;
    let dir: string;
    if (index.persistence === 'files') {
      dir = `${this.config.backend}-${marker.generation}-${randomBytes(4).toString('hex')}`;
      try {
        await index.save(path.join(this.root, dir));
      } catch (err) {
        // A half-written folder is never used: remove it now (it would also go at the next open).
        await rm(path.join(this.root, dir), { recursive: true, force: true }).catch(() => undefined);
        throw err instanceof DiskFullError ? new DiskFullError(this.root, err.neededBytes, { cause: err }) : (diskFullError(err, this.root) ?? err);
      }
    } else {
      dir = index.name;
      await index.flush();
    }
    const pointer: IndexPointer = {
      format: 'pixsearch-index-pointer',
      version: 1,
      dir,
      ...(index.persistence === 'remote' ? { persistence: 'remote' as const } : {}),
      marker,
      backend: this.config.backend,
      params: { ...this.config.params },
      modelId: settings.modelId!,
      dimension: this.index.dimension,
      savedAt: new Date().toISOString(),
    };
    if (index.persistence === 'remote') {
      // In the catalog: every process that opens it (front ends, workers, other machines) finds this index.
      this.ctx.catalog.updateSettings({ remoteIndex: toRecord(pointer) });
    } else {
      try {
        await writeFileAtomic(path.join(this.root, POINTER_FILE), JSON.stringify(pointer, null, 2) + '\n');
      } catch (err) {
        await rm(path.join(this.root, dir), { recursive: true, force: true }).catch(() => undefined);
        throw diskFullError(err, this.root) ?? err;
      }
      if (settings.remoteIndex) this.ctx.catalog.updateSettings({ remoteIndex: null }); // the library left its remote index
    }
    this.dirty = false;
    this.lastSave = Date.now();
    this.lastSaveMs = this.lastSave - started;
    // Deletion records older than the saved index are no longer needed to catch it up.
    this.ctx.catalog.pruneRemoved(marker.generation);
    for (const entry of await readdir(this.root)) {
      if (entry === (index.persistence === 'files' ? dir : undefined) || (entry === POINTER_FILE && index.persistence === 'files')) continue;
      await rm(path.join(this.root, entry), { recursive: true, force: true });
    }
    // Remote indexes the pointer no longer names (replaced by a rebuild).
    await this.dropRemote([...new Set(this.remoteToDrop.splice(0))].filter((n) => n !== dir));
  }

  /**
   * Readers: follows what writers committed since the index was loaded or last refreshed.
   * Costs one generation lookup when nothing changed. When the generation moved: a remote index
   * (written by the writers themselves) re-reads its size, or is reopened when the catalog now names
   * another one; an in-memory index is caught up from the stored embeddings changed since
   * (`removedSince` + `embeddingPages({ sinceGeneration })`, in one snapshot) and checked against
   * the catalog's marker, else rebuilt. Searches keep running on the old state meanwhile.
   * One refresh at a time (a concurrent call shares it). Resolves to true when the index changed.
   */
  refresh(): Promise<boolean> {
    if (!this.ctx.readOnly) return Promise.resolve(false); // a writer's index follows its own writes
    this.refreshing ??= this.follow().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async follow(): Promise<boolean> {
    const { catalog } = this.ctx;
    const generation = catalog.generation();
    if (generation === this.seenGeneration) {
      // Workers commit the catalog first and write the remote table right after: for a few seconds
      // after a change, re-read the remote size so a vector written after that commit is counted.
      const index = this.index;
      if (index?.persistence !== 'remote' || Date.now() > this.remoteRecheckUntil) return false;
      const before = index.size;
      await index.refresh?.();
      return index.size !== before;
    }
    const settings = catalog.settings();
    const index = this.index;
    const reopen =
      !index ||
      this.builtFor !== settings.modelId ||
      index.dimension !== settings.dimension ||
      (index.persistence === 'remote' && settings.remoteIndex !== null && settings.remoteIndex.name !== index.name);
    if (reopen) {
      // First embeddings since open, a model change, or a writer switched to another remote index: load as at open.
      this.seenGeneration = generation;
      await this.swap(undefined);
      this.builtFor = null;
      await this.load();
      return true;
    }
    if (index.persistence === 'remote') {
      // The writers wrote straight into it: only its size (which clamps k) is stale.
      await index.refresh?.();
      this.seenGeneration = generation;
      this.remoteRecheckUntil = Date.now() + REMOTE_RECHECK_MS;
      return true;
    }
    const since = this.seenGeneration ?? 0;
    const ok = await catalog.readSnapshot(async () => {
      const marker = catalog.marker();
      try {
        await this.catchUp(index, since);
      } catch {
        return undefined; // e.g. a backend that cannot remove: rebuilt below
      }
      return index.size === marker.count ? marker.generation : undefined;
    });
    if (ok !== undefined) {
      this.seenGeneration = ok;
      return true;
    }
    // Deletion records were pruned by a writer's save before this reader saw them, or the catch-up failed.
    this.ctx.warn(`the in-memory ${index.backend} index fell out of step with the catalog; rebuilding it from the stored embeddings`);
    this.seenGeneration = catalog.generation();
    await this.rebuild();
    return true;
  }

  /** Nearest neighbours of one query; `k` is clamped to the index size. `params` are checked against the backend's declared ones. */
  async search(query: Float32Array, k: number, params?: SearchParams): Promise<Neighbors> {
    const checked = this.checkSearchParams(params);
    const index = this.index;
    if (!index || index.size === 0 || k < 1) return { ids: [], scores: [] };
    this.busy++;
    try {
      const [res] = await index.search(query, Math.min(k, index.size), checked);
      return res ?? { ids: [], scores: [] };
    } finally {
      this.busy--;
      if (this.busy === 0) for (const old of this.retired.splice(0)) await old.close();
    }
  }

  /** Nearest neighbours of each of `queries.length / dimension` queries (one batched index call); `k` is clamped to the index size. */
  async searchMany(queries: Float32Array, k: number, params?: SearchParams): Promise<Neighbors[]> {
    const checked = this.checkSearchParams(params);
    const index = this.index;
    const dim = index?.dimension ?? 1;
    if (!index || index.size === 0 || k < 1) return Array.from({ length: Math.floor(queries.length / dim) }, () => ({ ids: [], scores: [] }));
    this.busy++;
    try {
      return await index.search(queries, Math.min(k, index.size), checked);
    } finally {
      this.busy--;
      if (this.busy === 0) for (const old of this.retired.splice(0)) await old.close();
    }
  }

  /** Closes the index (and any replaced one still in use). Unsaved changes are not saved (call `save()` first). */
  async close(): Promise<void> {
    await this.swap(undefined);
    for (const old of this.retired.splice(0)) await old.close();
  }
}

function fromRecord(rec: RemoteIndexRecord): IndexPointer {
  return {
    format: 'pixsearch-index-pointer',
    version: 1,
    dir: rec.name,
    persistence: 'remote',
    marker: rec.marker,
    backend: rec.backend,
    params: rec.params,
    modelId: rec.modelId,
    dimension: rec.dimension,
    savedAt: rec.savedAt,
  };
}

function toRecord(p: IndexPointer): RemoteIndexRecord {
  return { name: p.dir, backend: p.backend, params: p.params, modelId: p.modelId, dimension: p.dimension, marker: p.marker, savedAt: p.savedAt };
}
