import { AbortedError } from '../../errors.js';
import type { Embedder } from '../../embedder.js';
import type { Catalog, CatalogImage, CatalogRoot } from '../catalog.js';
import type { ImageMetadata } from '../metadata.js';
import type { IndexStore } from '../index-store.js';
import type { SyncProgress } from '../types.js';
import type { WalkEntry } from '../walk.js';

/** What a sync does with the vector index: the engine's `IndexStore`, or a mirror into a shared remote index. */
export type SyncStore = Pick<IndexStore, 'ensure' | 'apply' | 'save' | 'saveDue'>;

/** What a sync needs from the engine. */
export interface SyncContext {
  catalog: Catalog;
  store: SyncStore;
  /** Returns the (model-checked) embedder; called only when something must be embedded. */
  embedder: () => Promise<Embedder>;
  progress: (p: SyncProgress) => void;
  warn: (message: string) => void;
  ignore: readonly string[];
  /** `dev:ino` keys of folders never walked (the data directory). */
  exclude: ReadonlySet<string>;
  /** Images per embedder call (the embedder batches inside). */
  chunkSize: number;
  maxPixels: number;
  maxFileBytes: number;
  /** Save the index at most this often during a long sync (ms). */
  saveIntervalMs: number;
  signal: AbortSignal | undefined;
  /**
   * Embedding elsewhere (a scaled-out library): when set, new content is not embedded here but
   * written as `queued` rows whose ids are handed to this function (see `sync/dispatch.ts`).
   */
  dispatch?: (ids: number[]) => Promise<void>;
}

/** A file on disk, located in the library. */
export interface Found extends WalkEntry {
  root: CatalogRoot;
}

/** A file that must be read (new, changed, or failed before). */
export interface Candidate {
  file: Found;
  existing: CatalogImage | undefined;
  hash?: string;
  format?: string;
  /** Metadata read from the file's first bytes while it was hashed. */
  meta?: ImageMetadata;
}

/** Throws `AbortedError` when the sync's signal has fired (checked between steps). */
export function checkAbort(ctx: SyncContext): void {
  if (ctx.signal?.aborted) throw new AbortedError('sync');
}
