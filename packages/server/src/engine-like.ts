import type { ImageInput } from '@pixsearch/core';
import type {
  BrowseOptions,
  BrowseResponse,
  DuplicateOptions,
  DuplicateReport,
  FilterOptions,
  LibraryFacets,
  EngineEvents,
  EngineStats,
  ImageRecord,
  QueryTerm,
  SearchOptions,
  SearchResponse,
  SyncSummary,
} from '@pixsearch/core/engine';

/**
 * The part of `SearchEngine` (`@pixsearch/core/engine`) the server uses. The server never
 * opens or closes the engine: whoever passes it in owns it and closes it after the server.
 */
export interface EngineLike {
  /** Text query or combined weighted terms. */
  search(query: string | QueryTerm[], options?: SearchOptions): Promise<SearchResponse>;
  /** Query by an image: encoded bytes (an upload) or a path. */
  searchByImage(image: ImageInput, options?: SearchOptions): Promise<SearchResponse>;
  /** Images similar to a catalogued one (by id). */
  similar(id: number, options?: SearchOptions): Promise<SearchResponse>;
  /** "More like these": similar to the mean of several catalogued images' embeddings. */
  moreLike(ids: readonly number[], options?: SearchOptions): Promise<SearchResponse>;
  /** No query: the images matching the filters, by date. */
  browse(options?: BrowseOptions): Promise<BrowseResponse>;
  /** Values present (cameras, formats, folders, dates) for filter pickers. */
  facets(filter?: FilterOptions): Promise<LibraryFacets>;
  /** Exact and near-duplicate groups. */
  duplicates(options?: DuplicateOptions): Promise<DuplicateReport>;
  /** Catalog row of one image, or undefined when no such id exists. */
  getImage(id: number): ImageRecord | undefined;
  stats(): EngineStats | Promise<EngineStats>;
  /** Incremental sync of the roots (or of `roots`, added when new); rejects when one already runs. */
  sync(options?: { signal?: AbortSignal; roots?: string[] }): Promise<SyncSummary>;
  /** True while a sync runs (started by anyone in this process). */
  readonly isSyncing: boolean;
  on<K extends keyof EngineEvents>(event: K, listener: (...args: EngineEvents[K]) => void): unknown;
  off<K extends keyof EngineEvents>(event: K, listener: (...args: EngineEvents[K]) => void): unknown;
}
