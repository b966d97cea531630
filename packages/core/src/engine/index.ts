// @pixsearch/core/engine — the search engine (SQLite catalog, incremental sync, search).
export type * from './types.js';
export { SearchEngine, CATALOG_FILE, DEFAULT_BACKEND, DEFAULT_BATCH_SIZE, MAX_FILE_BYTES } from './engine.js';
export {
  parseQuery,
  formatQuery,
  checkQueryTerms,
  composeQueryVector,
  queryImageIds,
  MAX_QUERY_TERMS,
  MAX_QUERY_LENGTH,
  type ParseQueryOptions,
  type QueryEmbeddingSources,
} from './query.js';
export { DEFAULT_K, DEFAULT_THRESHOLD, MAX_K, MAX_OFFSET, MAX_FETCH, PREFILTER_MAX, FULL_PASS_MAX, COUNT_PASS_MAX } from './search.js';
export { DEFAULT_DUPLICATE_THRESHOLD, DEFAULT_DUPLICATE_NEIGHBORS } from './duplicates.js';
export { DUPLICATES_CSV_COLUMNS, csvCell, duplicatesCsvRows } from './duplicates-csv.js';
export { parseDateBound, resolveFilter, matchesFilter, folderCounts } from './filter.js';
export { readMetadata, cameraName, METADATA_HEAD_BYTES, EMPTY_METADATA, type ImageMetadata } from './metadata.js';
export { DEFAULT_IGNORED_NAMES } from './walk.js';
export { IMAGE_EXTENSIONS, DECODABLE_FORMATS, DEFAULT_MAX_PIXELS, mimeForFormat, sniffImage, type Sniffed } from './sniff.js';
export { SqliteCatalog, CATALOG_SCHEMA_VERSION, METADATA_VERSION } from './sqlite-catalog.js';
export type * from './catalog.js';
export { checkRow, IMAGE_COLUMNS, toImage, type ImageRow } from './catalog-rows.js';
export { facetStatements, SQLITE_FACET_DIALECT, toFacets, type FacetDialect } from './catalog-facets.js';
export { INDEX_DIR, POINTER_FILE, type IndexPointer } from './index-store.js';
export { LOCK_FILE } from './lock.js';
export {
  FolderWatcher,
  describeWatchError,
  DEFAULT_QUIET_MS,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_RESCAN_MS,
  type FolderWatcherOptions,
  type FolderWatcherEvents,
  type WatchEvent,
  type WatchSubscription,
  type SubscribeFn,
} from './folder-watcher.js';
// Building blocks for other catalogs and distributed syncs (e.g. @pixsearch/index-pgvector's scanner and workers).
export { runSync, type SyncContext } from './sync.js';
export type { SyncStore } from './sync/context.js';
export { QUEUED_REASON } from './sync/dispatch.js';
export { statusFor } from './sync/writer.js';
export { loadClipEmbedder } from './embedder-loader.js';
export { joinRoot } from './paths.js';
