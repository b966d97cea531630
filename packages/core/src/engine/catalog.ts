/**
 * The catalog: the source of truth of a library (roots, one row per image file, the stored
 * embeddings and a little metadata). The vector index is a cache derived from it.
 *
 * The interface is synchronous and small so that another store (e.g. PostgreSQL through a
 * worker) can implement it; `SqliteCatalog` is the implementation in use.
 */

import type { ImageMetadata } from './metadata.js';

/** Status of an image row. `failed` rows are retried by every sync; `skipped` ones only when the file changes. */
export type ImageStatus = 'indexed' | 'skipped' | 'failed';

export interface CatalogRoot {
  id: number;
  /** Absolute path of the folder. */
  path: string;
}

/** The columns a sync needs to classify a file (no embedding). */
export interface FileState {
  id: number;
  rootId: number;
  /** Root-relative path with `/` separators (undecodable bytes escaped as `\xNN`). */
  relPath: string;
  size: number;
  mtimeMs: number;
  hash: string | null;
  status: ImageStatus;
  reason: string | null;
}

/** A full image row, as returned by lookups. */
export interface CatalogImage extends FileState {
  width: number;
  height: number;
  format: string;
  message: string | null;
  /** Photo metadata; null until it has been read (rows from before metadata existed, until the next sync). */
  meta: ImageMetadata | null;
  /** Camera display name derived from the metadata's make and model (`cameraName`), or null. */
  camera: string | null;
}

/**
 * A resolved metadata filter (see `resolveFilter`); every field optional, combined with AND.
 * Only indexed rows ever match.
 */
export interface CatalogFilter {
  /** Root-relative path prefix, or absolute when it starts with `/`. */
  pathPrefix?: string;
  /** Inclusive bounds in ms; `local: true` compares the local (camera) time `takenLocal`, else the instant `takenAt`. */
  takenFrom?: { ms: number; local: boolean };
  takenTo?: { ms: number; local: boolean };
  /** ASCII-lower-cased substrings, any of which the camera name must contain. */
  cameras?: string[];
  /** Formats, any of them. */
  formats?: string[];
  minWidth?: number;
  minHeight?: number;
  hasLocation?: boolean;
}

/** Values present in the library, for filter pickers. */
export interface CatalogFacets {
  /** Indexed images matching the filter the facets were computed under. */
  total: number;
  cameras: { value: string; count: number }[];
  formats: { value: string; count: number }[];
  /** Folders holding images (absolute, every level), with the images beneath them. */
  folders: { path: string; count: number }[];
  /** Earliest and latest local date taken (ms, read as UTC), null when no image has a date. */
  dateRange: { min: number; max: number } | null;
  /** Images per local month `YYYY-MM`, newest first. */
  months: { month: string; count: number }[];
  /** Images with a GPS position. */
  located: number;
}

/** Everything stored for one image except its id. `embedding` must be set exactly when `status` is `indexed`. */
export interface ImageRowData {
  rootId: number;
  relPath: string;
  size: number;
  mtimeMs: number;
  hash: string | null;
  width: number;
  height: number;
  format: string;
  status: ImageStatus;
  reason: string | null;
  message: string | null;
  /** `dimension` floats, L2-normalised; null unless `status` is `indexed`. */
  embedding: Float32Array | null;
  /** Photo metadata read from the file; absent or null when not read (a later sync backfills it). */
  meta?: ImageMetadata | null;
}

/** One change inside {@link Catalog.write}. */
export type CatalogOp =
  | { op: 'insert'; row: ImageRowData }
  /** Replaces every column of row `id` (its id stays). */
  | { op: 'replace'; id: number; row: ImageRowData }
  /** Changes where a row lives and its stat fields, keeping content, hash and embedding. */
  | { op: 'relocate'; id: number; rootId: number; relPath: string; size: number; mtimeMs: number }
  | { op: 'delete'; id: number }
  /** Stores the metadata of row `id` (backfill); leaves everything else as it is. */
  | { op: 'metadata'; id: number; meta: ImageMetadata };

/** Identifies the exact set of stored embeddings; the index saves it and is trusted only when it matches. */
export interface CatalogMarker {
  /** Random id of this catalog, fixed at creation. */
  catalogId: string;
  /** Incremented by every write that changes the set of (id, embedding) pairs. */
  generation: number;
  /** Indexed rows. */
  count: number;
  /** Sum of indexed ids (a cheap checksum of the id set). */
  idSum: number;
}

/**
 * Where a library's `remote` vector index lives (a table in a database server), kept in the catalog
 * so that every process opening the catalog — front ends and workers on any machine — finds the same
 * index. Never a connection string: those come from the environment or the command line.
 */
export interface RemoteIndexRecord {
  /** The index's name in the server. */
  name: string;
  backend: string;
  params: Record<string, number | string>;
  modelId: string;
  dimension: number;
  /**
   * The catalog state the index was last saved at. Writers keep remote indexes at least this far
   * (every write goes straight to the server), so the index may be ahead of it, never behind.
   */
  marker: CatalogMarker;
  savedAt: string;
}

/** Library-wide settings stored in the catalog. */
export interface CatalogSettings {
  /** Model identity (`Embedder.modelId`) the stored embeddings come from; null before the first embedding. */
  modelId: string | null;
  /** What the user configured to get that model (bundle folder or hub id), used to reopen it. */
  modelSource: string | null;
  dimension: number | null;
  backend: string | null;
  backendParams: Record<string, number | string>;
  /** ISO time of the last completed sync. */
  lastSync: string | null;
  /** The library's remote vector index, when its backend keeps one in a server (null otherwise, or before the first save). */
  remoteIndex: RemoteIndexRecord | null;
}

export interface Catalog {
  /** Where the catalog lives (file path or connection string), for messages. */
  readonly location: string;
  readonly readOnly: boolean;

  settings(): CatalogSettings;
  /** Updates the given settings fields (one transaction). */
  updateSettings(patch: Partial<CatalogSettings>): void;

  roots(): CatalogRoot[];
  /** Adds a root (idempotent); returns its id. */
  addRoot(path: string): number;
  /**
   * Moves every row of root `fromId` under root `toId`, prefixing their paths with `prefix` (`a/b/`),
   * then drops `fromId`. Rows of `toId` already at those paths are replaced; returns the ids of the
   * replaced rows that were indexed.
   */
  mergeRoot(fromId: number, toId: number, prefix: string): number[];
  /** Deletes a root and all its rows; returns the ids of the rows that were indexed. */
  removeRoot(id: number): number[];

  /** Calls `fn` with the rows of `rootId` in pages (bounded memory per page). */
  forEachFileState(rootId: number, fn: (rows: CatalogImage[]) => void): void;
  /** Applies all ops in one transaction; returns the ids of inserted rows, in op order. */
  write(ops: readonly CatalogOp[]): number[];
  /** An indexed row with this content hash and its embedding, if any. */
  findByHash(hash: string): { image: CatalogImage; embedding: Float32Array } | undefined;

  getImage(id: number): CatalogImage | undefined;
  /** Rows for these ids (missing ids absent from the map). */
  getImages(ids: readonly number[]): Map<number, CatalogImage>;
  /** Stored embedding of an indexed image. */
  getEmbedding(id: number): Float32Array | undefined;
  /**
   * Pages of indexed ids (ascending) and their embeddings (`ids.length × dimension` floats),
   * optionally only those whose path (root-relative, or absolute when `pathPrefix` starts with `/`)
   * starts with `pathPrefix`, those matching `filter`, or only those changed after generation `sinceGeneration`.
   * Each page is one query; no statement stays open between pages.
   */
  embeddingPages(options?: { pathPrefix?: string; filter?: CatalogFilter; pageSize?: number; sinceGeneration?: number }): Generator<{ ids: number[]; vectors: Float32Array }>;
  /** Ids whose embedding left the index after `generation` (deleted rows, rows no longer indexed). */
  removedSince(generation: number): number[];
  /** Forgets deletion records up to `generation` (every saved index has seen them). */
  pruneRemoved(generation: number): void;
  /** Runs `fn` with every catalog read inside one snapshot (a read transaction), even across awaits. */
  readSnapshot<T>(fn: () => Promise<T>): Promise<T>;
  /** Indexed rows whose path starts with `prefix` (same rule as `embeddingPages`). */
  countWithPrefix(prefix: string): number;
  /**
   * Indexed rows matching `filter` (all indexed rows when undefined). With `limit`, counts at most
   * `limit` of them (returns min(count, limit)): bounded work, for callers that only need to know
   * whether the count is small (a search deciding between an exact scan and the index).
   */
  countMatching(filter: CatalogFilter | undefined, limit?: number): number;
  /** Ids of the indexed rows matching `filter`, ascending. */
  matchingIds(filter: CatalogFilter | undefined): number[];
  /**
   * A page of indexed rows matching `filter`, by date taken (`desc`: newest first), rows without
   * a date last, ties by id (in the same direction).
   */
  browse(filter: CatalogFilter | undefined, order: 'desc' | 'asc', offset: number, limit: number): CatalogImage[];
  /** `ids` ordered by date taken as {@link browse} orders rows, then sliced to [offset, offset + limit). Unknown ids are dropped. */
  orderByDate(ids: readonly number[], order: 'desc' | 'asc', offset: number, limit: number): number[];
  /** Values present among the indexed rows matching `filter`, for pickers. */
  facets(filter: CatalogFilter | undefined): CatalogFacets;
  /** Groups (two or more ids, ascending) of indexed rows with the same content hash. */
  hashGroups(): number[][];

  marker(): CatalogMarker;
  /**
   * The generation alone (see {@link CatalogMarker.generation}): one indexed lookup, no scan — what
   * a long-lived reader polls to learn that writers changed the set of embeddings.
   */
  generation(): number;
  counts(): Record<ImageStatus, number>;
  /** Skipped and failed rows, up to `limit`. */
  problems(limit?: number): CatalogImage[];
  /**
   * Model change: forgets every stored embedding (rows become `failed` with reason `model-changed`,
   * so the next sync re-embeds them) and records the new model — one transaction.
   */
  resetEmbeddings(model: { modelId: string; modelSource: string | null; dimension: number }): void;
  close(): void;
}
